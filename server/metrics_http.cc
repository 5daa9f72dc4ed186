#include "server/metrics_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sipresolver::server {
namespace {

struct HostPort {
  std::string host;
  std::string port;
};

absl::StatusOr<HostPort> SplitListen(absl::string_view listen) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad listen address \"", listen, "\": ", why,
                     " (HOST:PORT or [IPV6]:PORT)"));
  };
  HostPort hp;
  size_t colon;
  if (absl::StartsWith(listen, "[")) {
    const size_t close = listen.find(']');
    if (close == absl::string_view::npos) return bad("no ']'");
    hp.host = std::string(listen.substr(1, close - 1));
    colon = close + 1;
    if (colon >= listen.size() || listen[colon] != ':') return bad("no port");
  } else {
    colon = listen.rfind(':');
    if (colon == absl::string_view::npos) return bad("no port");
    hp.host = std::string(listen.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return bad("an IPv6 address needs brackets");
    }
  }
  hp.port = std::string(listen.substr(colon + 1));
  int port;
  if (hp.host.empty()) return bad("no host");
  if (!absl::SimpleAtoi(hp.port, &port) || port < 0 || port > 65535) {
    return bad("the port is not a number from 0 to 65535");
  }
  return hp;
}

absl::Status Errno(absl::string_view what, int err, absl::string_view listen) {
  return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, ": ",
                                             what, ": ", std::strerror(err)));
}

// The bound, listening, non-blocking socket for `hp`. On failure `err` is
// the errno of the call that failed (0 when none did: a name that does not
// resolve).
absl::StatusOr<int> Bind(const HostPort& hp, absl::string_view listen,
                         int& err) {
  err = 0;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen, ": ", gai_strerror(rc)));
  }
  const int fd =
      socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const char* failed = nullptr;
  if (fd < 0) {
    failed = "socket";
  } else {
    const int on = 1;
    const int off = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    // "[::]" means every address, IPv4 ones included (dual stack).
    if (found->ai_family == AF_INET6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
      failed = "bind";
    } else if (::listen(fd, MetricsHttpServer::kMaxConnections) != 0) {
      failed = "listen";
    }
  }
  if (failed != nullptr) err = errno;  // Before anything else can change it.
  freeaddrinfo(found);
  if (failed == nullptr) return fd;
  if (fd >= 0) close(fd);
  return Errno(failed, err, listen);
}

absl::StatusOr<int> Listen(absl::string_view listen) {
  absl::StatusOr<HostPort> hp = SplitListen(listen);
  if (!hp.ok()) return hp.status();
  int err = 0;
  absl::StatusOr<int> fd = Bind(*hp, listen, err);
  // As gRPC does for "[::]": every IPv4 address where the machine has no
  // IPv6 (a kernel or a pod with IPv6 turned off).
  if (!fd.ok() && hp->host == "::" &&
      (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)) {
    fd = Bind({"0.0.0.0", hp->port}, listen, err);
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

std::string Response(absl::string_view status, absl::string_view type,
                     absl::string_view body, bool with_body,
                     absl::string_view extra_header = "") {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra_header,
                      "Connection: close\r\n\r\n", with_body ? body : "");
}

std::string Text(absl::string_view status, absl::string_view body,
                 absl::string_view extra_header = "") {
  return Response(status, "text/plain; charset=utf-8", body, true,
                  extra_header);
}

// The answer to a whole request head.
std::string Answer(absl::string_view head,
                   const MetricsHttpServer::Render& render) {
  const absl::string_view line = head.substr(0, head.find("\r\n"));
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
    return Text("400 Bad Request", "not an HTTP/1 request\n");
  }
  const absl::string_view method = parts[0];
  if (method != "GET" && method != "HEAD") {
    return Text("405 Method Not Allowed", "only GET and HEAD\n",
                "Allow: GET, HEAD\r\n");
  }
  const absl::string_view path = parts[1].substr(0, parts[1].find('?'));
  if (path != "/metrics") return Text("404 Not Found", "see /metrics\n");
  return Response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                  render(), method == "GET");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    absl::string_view listen, Render render) {
  absl::StatusOr<int> fd = Listen(listen);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<WakePipe> wake = WakePipe::Create();
  if (wake == nullptr) {
    absl::Status status = Errno("pipe", errno, listen);
    close(*fd);
    return status;
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(
      *fd, BoundPort(*fd), std::move(wake), std::move(render)));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int port,
                                     std::unique_ptr<WakePipe> wake,
                                     Render render)
    : listen_fd_(listen_fd),
      port_(port),
      wake_(std::move(wake)),
      render_(std::move(render)) {}

MetricsHttpServer::~MetricsHttpServer() {
  wake_->Wake();
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
}

void MetricsHttpServer::Run() {
  struct Connection {
    int fd;
    absl::Time deadline;
    std::string in;
    std::string out;  // Once set, the response being sent; nothing is read.
    size_t sent = 0;
  };
  std::vector<Connection> connections;
  const auto drop = [&](size_t i) {
    close(connections[i].fd);
    connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
  };
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{wake_->read_fd(), POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    for (const Connection& c : connections) {
      fds.push_back(
          {c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
    }
    // A second's granularity is enough for a 10 s timeout.
    if (poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;

    const absl::Time now = absl::Now();
    // Backwards, so that dropping one keeps the others' indexes.
    for (size_t i = connections.size(); i-- > 0;) {
      Connection& c = connections[i];
      const short revents = fds[2 + i].revents;
      if (revents & (POLLERR | POLLNVAL) || now > c.deadline) {
        drop(i);
        continue;
      }
      if (c.out.empty() && (revents & (POLLIN | POLLHUP))) {
        char buf[2048];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n <= 0) {
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) drop(i);
          continue;
        }
        c.in.append(buf, n);
        const size_t end = c.in.find("\r\n\r\n");
        if (std::min(end, c.in.size()) > kMaxRequestBytes) {
          c.out = Text("431 Request Header Fields Too Large",
                       "the request is too large\n");
        } else if (end != std::string::npos) {
          c.out = Answer(absl::string_view(c.in).substr(0, end), render_);
        }
        continue;
      }
      if (!c.out.empty() && (revents & (POLLOUT | POLLHUP))) {
        const ssize_t n = send(c.fd, c.out.data() + c.sent,
                               c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          drop(i);
          continue;
        }
        if (n > 0) c.sent += n;
        if (c.sent == c.out.size()) {
          shutdown(c.fd, SHUT_WR);
          drop(i);
        }
      }
    }

    if (fds[1].revents & POLLIN) {
      const int fd =
          accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        // At the limit the oldest goes: clients that connect and stay silent
        // cannot keep a scrape out.
        if (connections.size() >= kMaxConnections) drop(0);
        connections.push_back(
            {fd, now + absl::Seconds(kRequestTimeoutSeconds), "", "", 0});
      }
    }
  }
}

}  // namespace sipresolver::server
