// The STUN Binding client (N2) against a real coturn on loopback: mapped
// addresses (IPv4, IPv6, chosen and shared local ports), retransmissions to
// a paused server, ICMP unreachable, concurrent queries. Answers coturn does
// not give (errors, strays, corruption) are in unit/nat_stun_client_test.cc.
// Also pins the CoturnServer fixture.
#include "lib/nat/stun_client.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/nat/stun_message.h"
#include "tests/support/coturn_server.h"

namespace sipresolver::testing {
namespace {

using nat::LocalBinding;
using nat::MappedAddress;
using nat::StunClient;
using nat::StunOptions;
using ::testing::HasSubstr;

// A UDP socket on 127.0.0.1, optionally sharing its port (SO_REUSEADDR and
// SO_REUSEPORT) like a device's SIP socket that lets the agent in.
int BoundSocket(uint16_t port, bool reuse, uint16_t* bound) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (reuse) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *bound = ntohs(a.sin_port);
  return fd;
}

// A UDP port of 127.0.0.1 that nothing listens on (ICMP unreachable).
uint16_t ClosedUdpPort() {
  uint16_t port = 0;
  close(BoundSocket(0, false, &port));
  return port;
}

class StunClientTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_.Start(); }
  void TearDown() override {
    loop_.RunSync([&] { client_.reset(); });
    loop_.Stop();
  }

  void MakeClient(StunOptions options = {}) {
    loop_.RunSync([&] {
      auto client =
          StunClient::Create(loop_.io_context(), loop_, random_, options);
      ASSERT_TRUE(client.ok()) << client.status();
      client_ = *std::move(client);
    });
  }

  // Starts a query on the loop; the future gets its result.
  std::future<absl::StatusOr<MappedAddress>> Start(
      const std::string& ip, uint16_t port,
      std::optional<LocalBinding> from = std::nullopt) {
    auto promise =
        std::make_shared<std::promise<absl::StatusOr<MappedAddress>>>();
    auto future = promise->get_future();
    loop_.RunSync([&] {
      client_->Query(ip, port, from,
                     [promise](absl::StatusOr<MappedAddress> r) {
                       promise->set_value(std::move(r));
                     });
    });
    return future;
  }

  absl::StatusOr<MappedAddress> Wait(
      std::future<absl::StatusOr<MappedAddress>>& f,
      absl::Duration timeout = absl::Seconds(10)) {
    if (f.wait_for(absl::ToChronoMilliseconds(timeout)) !=
        std::future_status::ready) {
      return absl::InternalError("test: the query never completed");
    }
    return f.get();
  }

  absl::StatusOr<MappedAddress> Query(
      const std::string& ip, uint16_t port,
      std::optional<LocalBinding> from = std::nullopt) {
    auto f = Start(ip, port, from);
    return Wait(f);
  }

  StunClient::Stats Stats() {
    StunClient::Stats s;
    loop_.RunSync([&] { s = client_->stats(); });
    return s;
  }

  std::unique_ptr<CoturnServer> StartCoturn(CoturnConfig config = {}) {
    auto server = CoturnServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static StunOptions Short() {  // 4 requests at 0, 20, 60, 140 ms; 220 ms.
    StunOptions o;
    o.rto = absl::Milliseconds(20);
    o.rc = 4;
    o.rm = 4;
    return o;
  }

  EventLoop loop_;
  RealRandom random_;
  std::unique_ptr<StunClient> client_;
};

TEST_F(StunClientTest, N2LearnsTheMappedAddressFromCoturn) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  MakeClient();
  auto m = Query("127.0.0.1", coturn->port());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "127.0.0.1");
  EXPECT_EQ(m->method, MappedAddress::Method::kStun);
  // The port is the client's own source port, as coturn saw it.
  EXPECT_THAT(coturn->ClientEndpoints(),
              ::testing::ElementsAre(absl::StrCat("127.0.0.1:", m->port)));
  EXPECT_EQ(coturn->CountBindingRequests(), 1);
  EXPECT_EQ(Stats().requests_sent, 1u);
  loop_.RunSync([&] { EXPECT_EQ(client_->open_sockets(), 0u); });
}

TEST_F(StunClientTest, N2LearnsAnIpv6MappedAddress) {
  CoturnConfig v6;
  v6.listen_ip = "::1";
  auto coturn = StartCoturn(v6);
  ASSERT_NE(coturn, nullptr);
  MakeClient();
  auto m = Query("::1", coturn->port());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "::1");
  EXPECT_THAT(coturn->ClientEndpoints(),
              ::testing::ElementsAre(absl::StrCat("[::1]:", m->port)));
}

TEST_F(StunClientTest, N2BindingFromAChosenPortReportsThatPort) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  MakeClient();
  const uint16_t port = ClosedUdpPort();  // Free: nobody holds it.
  auto m = Query("127.0.0.1", coturn->port(), LocalBinding{"127.0.0.1", port});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->port, port);
}

TEST_F(StunClientTest, N2SharesADevicePortOnlyWithReusePort) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  MakeClient();
  uint16_t device_port = 0;
  const int device = BoundSocket(0, /*reuse=*/true, &device_port);
  auto refused = Query("127.0.0.1", coturn->port(),
                       LocalBinding{"127.0.0.1", device_port, false});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("cannot bind"));
  auto m =
      Query("127.0.0.1", coturn->port(), LocalBinding{"", device_port, true});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->port, device_port);
  close(device);
}

TEST_F(StunClientTest, PausedServerTimesOutAfterTheSchedule) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  MakeClient(Short());
  coturn->Pause();
  const absl::Time start = absl::Now();
  auto m = Query("127.0.0.1", coturn->port());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr(absl::StrCat("STUN server 127.0.0.1:", coturn->port(),
                                     " did not answer: 4 requests at 0, 20ms, "
                                     "60ms, 140ms, given up at 220ms")));
  EXPECT_GE(took, absl::Milliseconds(220));
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(Stats().requests_sent, 4u);
  // The requests waited in coturn's socket: it sees exactly four.
  coturn->Resume();
  // All four waited in its socket together; the client sent no fifth
  // (requests_sent above).
  EXPECT_TRUE(coturn->WaitForBindingRequests(4));
  EXPECT_EQ(coturn->CountBindingRequests(), 4);
}

TEST_F(StunClientTest, ClosedPortIsUnavailableBeforeAnyRetransmission) {
  MakeClient();  // RTO 500 ms.
  const absl::Time start = absl::Now();
  auto m = Query("127.0.0.1", ClosedUdpPort());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnavailable) << m.status();
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("unreachable"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // Not via the schedule.
  EXPECT_EQ(Stats().requests_sent, 1u);
}

TEST_F(StunClientTest, ConcurrentQueriesAreMatchedByTransactionId) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  MakeClient();
  constexpr int kQueries = 20;
  std::vector<std::promise<absl::StatusOr<MappedAddress>>> promises(kQueries);
  std::vector<std::future<absl::StatusOr<MappedAddress>>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  loop_.RunSync([&] {  // All in flight at once, on one socket.
    for (auto& p : promises) {
      client_->Query("127.0.0.1", coturn->port(), std::nullopt,
                     [&p](auto r) { p.set_value(std::move(r)); });
    }
    EXPECT_EQ(client_->in_flight(), static_cast<size_t>(kQueries));
    EXPECT_EQ(client_->open_sockets(), 1u);
  });
  std::optional<MappedAddress> first;
  for (auto& f : futures) {
    auto m = Wait(f);
    ASSERT_TRUE(m.ok()) << m.status();
    if (!first) first = *m;
    EXPECT_EQ(*m, *first);  // One shared socket: one mapping.
  }
  EXPECT_EQ(coturn->CountBindingRequests(), kQueries);
  const StunClient::Stats s = Stats();
  EXPECT_EQ(s.responses_matched, static_cast<uint64_t>(kQueries));
  EXPECT_EQ(s.succeeded, static_cast<uint64_t>(kQueries));
  EXPECT_EQ(s.datagrams_ignored, 0u);
}

TEST_F(StunClientTest, ACallbackMayDestroyTheClient) {
  MakeClient();
  const uint16_t closed = ClosedUdpPort();
  std::atomic<int> calls{0};
  std::promise<void> first;
  loop_.RunSync([&] {
    for (int i = 0; i < 2; ++i) {  // One socket: ICMP fails both at once.
      client_->Query("127.0.0.1", closed, std::nullopt, [&](auto) {
        if (++calls == 1) {
          client_.reset();
          first.set_value();
        }
      });
    }
  });
  ASSERT_EQ(first.get_future().wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  loop_.RunSync([] {});  // Whatever the failure queued has run by now.
  EXPECT_EQ(calls.load(), 1);
}

// Sends `request` to 127.0.0.1:port from a fresh socket; the answer, if one
// comes within `wait`.
std::optional<std::string> Exchange(uint16_t port, const std::string& request,
                                    absl::Duration wait = absl::Seconds(30)) {
  uint16_t unused = 0;
  const int fd = BoundSocket(0, false, &unused);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sendto(fd, request.data(), request.size(), 0,
         reinterpret_cast<sockaddr*>(&to), sizeof(to));
  pollfd p{fd, POLLIN, 0};
  std::optional<std::string> answer;
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) > 0) {
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n >= 0) answer = std::string(buf, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

// What coturn_server.h says about coturn's answers.
TEST_F(StunClientTest, CoturnAnswersAsTheFixtureDocuments) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  const nat::StunTransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (bool fingerprint : {true, false}) {
    auto answer = Exchange(
        coturn->port(), *nat::EncodeBindingRequest(id, {"test", fingerprint}));
    ASSERT_TRUE(answer.has_value());
    auto r = nat::DecodeBindingResponse(*answer);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->success);
    EXPECT_EQ(r->transaction_id, id);
    ASSERT_TRUE(r->xor_mapped_address && r->mapped_address);
    EXPECT_EQ(*r->xor_mapped_address, *r->mapped_address);
    EXPECT_EQ(r->xor_mapped_address->address, "127.0.0.1");
    EXPECT_EQ(r->software, "Coturn-4.6.1 'Gorst'");
    EXPECT_EQ(r->fingerprint, fingerprint);
  }
  // An unknown comprehension-required attribute: 420.
  std::string unknown = *nat::EncodeBindingRequest(id, {"", false});
  unknown += std::string("\x77\x77\x00\x00", 4);
  unknown[3] = 4;
  auto answer = Exchange(coturn->port(), unknown);
  ASSERT_TRUE(answer.has_value());
  auto r = nat::DecodeBindingResponse(*answer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->error_code, 420);
  EXPECT_EQ(r->error_reason, "Unknown Attribute");
  EXPECT_THAT(r->unknown_attributes, ::testing::ElementsAre(0x7777));
  // Not STUN: no answer at all.
  EXPECT_EQ(Exchange(coturn->port(), "OPTIONS sip:x SIP/2.0\r\n\r\n",
                     absl::Milliseconds(200)),
            std::nullopt);
  // The 420 is logged as a processed Binding request too.
  EXPECT_EQ(coturn->CountBindingRequests(), 3);
}

TEST_F(StunClientTest, CoturnFixtureLeavesNothingBehind) {
  auto coturn = StartCoturn();
  ASSERT_NE(coturn, nullptr);
  const pid_t pid = coturn->pid();
  const std::string dir =
      std::filesystem::path(coturn->log_path()).parent_path();
  EXPECT_EQ(coturn->CountBindingRequests(), 0);  // Probes not counted.
  coturn->Pause();
  coturn->Stop();  // Also from paused.
  EXPECT_FALSE(coturn->running());
  EXPECT_NE(kill(pid, 0), 0);
  coturn.reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace sipresolver::testing
