// MetricsHttpServer over real sockets, IPv4 and IPv6 loopback: what
// Prometheus and curl get, and what a hostile client cannot do.
#include "server/metrics_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sipresolver::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPage[] = "# TYPE up gauge\nup 1\n";

// A connected socket to loopback (127.0.0.1 or ::1), or -1.
int Connect(int family, int port) {
  const int fd = socket(family, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_storage addr{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*a);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The whole reply to `request`, or "" when nobody answers.
std::string Exchange(int family, int port, const std::string& request) {
  const int fd = Connect(family, port);
  if (fd < 0) return "";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);  // All of the request is sent.
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, n);
  close(fd);
  return reply;
}

std::string Get(int family, int port, const std::string& path) {
  return Exchange(family, port,
                  absl::StrCat("GET ", path,
                               " HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"));
}

std::unique_ptr<MetricsHttpServer> Serve(const std::string& listen) {
  auto server = MetricsHttpServer::Start(listen, [] { return kPage; });
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(MetricsHttpTest, EveryAddressServesIpv4AndIpv6) {
  auto server = Serve("[::]:0");
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);
  for (int family : {AF_INET, AF_INET6}) {
    const std::string reply = Get(family, server->port(), "/metrics");
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n")) << family;
    EXPECT_THAT(reply, HasSubstr("Content-Type: text/plain; version=0.0.4"));
    EXPECT_THAT(reply, HasSubstr(absl::StrCat("Content-Length: ",
                                              std::string(kPage).size())));
    EXPECT_THAT(reply, HasSubstr(absl::StrCat("\r\n\r\n", kPage)));
  }
}

TEST(MetricsHttpTest, OneAddressServesOnlyIt) {
  auto v6 = Serve("[::1]:0");
  ASSERT_NE(v6, nullptr);
  EXPECT_THAT(Get(AF_INET6, v6->port(), "/metrics"),
              StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(Get(AF_INET, v6->port(), "/metrics"), "");
  auto v4 = Serve("127.0.0.1:0");
  ASSERT_NE(v4, nullptr);
  EXPECT_THAT(Get(AF_INET, v4->port(), "/metrics"), StartsWith("HTTP/1.1 200"));
}

TEST(MetricsHttpTest, QueryStringIsIgnoredAndHeadHasNoBody) {
  auto server = Serve("127.0.0.1:0");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Get(AF_INET, server->port(), "/metrics?x=1"),
              StartsWith("HTTP/1.1 200"));
  const std::string head =
      Exchange(AF_INET, server->port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_TRUE(absl::EndsWith(head, "\r\n\r\n")) << head;
}

TEST(MetricsHttpTest, WrongRequestsGetTheRightStatus) {
  auto server = Serve("127.0.0.1:0");
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  EXPECT_THAT(Get(AF_INET, port, "/"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Exchange(AF_INET, port, "POST /metrics HTTP/1.1\r\n\r\n"),
              AllOf(StartsWith("HTTP/1.1 405"), HasSubstr("Allow: GET, HEAD")));
  EXPECT_THAT(Exchange(AF_INET, port, "hello\r\n\r\n"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(
      Exchange(
          AF_INET, port,
          absl::StrCat("GET /metrics HTTP/1.1\r\nX: ",
                       std::string(MetricsHttpServer::kMaxRequestBytes, 'a'),
                       "\r\n\r\n")),
      StartsWith("HTTP/1.1 431"));
  // A client that closes before finishing its request gets nothing, and
  // the server goes on.
  EXPECT_EQ(Exchange(AF_INET, port, "GET /met"), "");
  EXPECT_THAT(Get(AF_INET, port, "/metrics"), StartsWith("HTTP/1.1 200"));
}

TEST(MetricsHttpTest, SilentClientsCannotKeepAScrapeOut) {
  auto server = Serve("127.0.0.1:0");
  ASSERT_NE(server, nullptr);
  std::vector<int> silent;
  for (int i = 0; i < 2 * MetricsHttpServer::kMaxConnections; ++i) {
    silent.push_back(Connect(AF_INET, server->port()));
  }
  // Long before the silent ones time out (10 s; the client waits 5 s).
  EXPECT_THAT(Get(AF_INET, server->port(), "/metrics"),
              StartsWith("HTTP/1.1 200"));
  for (int fd : silent) close(fd);
}

TEST(MetricsHttpTest, BadListenAddressesAreErrorsThatSayWhy) {
  for (const char* listen : {"9464", ":9464", "::1:9464", "[::1]", "[::1]9464",
                             "127.0.0.1:65536", "127.0.0.1:http"}) {
    auto server = MetricsHttpServer::Start(listen, [] { return ""; });
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
        << listen << ": " << server.status();
    EXPECT_THAT(server.status().message(), HasSubstr(listen));
  }
  auto taken = Serve("127.0.0.1:0");
  ASSERT_NE(taken, nullptr);
  auto again = MetricsHttpServer::Start(
      absl::StrCat("127.0.0.1:", taken->port()), [] { return ""; });
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.status().message(), HasSubstr("Address already in use"));
}

}  // namespace
}  // namespace sipresolver::server
