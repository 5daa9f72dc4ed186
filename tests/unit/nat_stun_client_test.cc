// StunClient transactions (N2) on simulated time: the RFC 8489 6.2.1
// retransmissions of the real client, seen on the wire by a scripted peer on
// loopback, and what each kind of answer does. The test thread drives both
// the io_context and the simulated timers, so nothing sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "lib/core/timer.h"
#include "lib/nat/stun_client.h"
#include "lib/nat/stun_message.h"
#include "tests/support/fake_random.h"
#include "tests/support/stun_response_encoder.h"

namespace sipresolver::nat {
namespace {

using ::sipresolver::testing::EncodeBindingResponse;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Duration Ms(int64_t ms) { return absl::Milliseconds(ms); }

// The server side: a non-blocking UDP socket on 127.0.0.1 that the test
// reads and answers by hand.
class Peer {
 public:
  Peer() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Peer() { close(fd_); }
  uint16_t port() const { return port_; }

  // Datagrams that arrived since the last call; remembers the sender.
  std::vector<std::string> Receive() {
    std::vector<std::string> out;
    char buf[2048];
    while (true) {
      from_len_ = sizeof(from_);
      ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0,
                           reinterpret_cast<sockaddr*>(&from_), &from_len_);
      if (n < 0) return out;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  void Send(const std::string& datagram) {
    sendto(fd_, datagram.data(), datagram.size(), 0,
           reinterpret_cast<sockaddr*>(&from_), from_len_);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_storage from_{};
  socklen_t from_len_ = 0;
};

// An answer to `request`, shaped by `edit`.
std::string Answer(const std::string& request,
                   const std::function<void(BindingResponse&)>& edit = {},
                   bool fingerprint = true) {
  BindingResponse r;
  r.transaction_id = PeekTransactionId(request).value_or(StunTransactionId{});
  r.xor_mapped_address = StunAddress{"198.51.100.7", 4242};
  if (edit) edit(r);
  return EncodeBindingResponse(r, fingerprint).value();
}

class StunTransactionTest : public ::testing::Test {
 protected:
  void MakeClient(StunOptions options = {}) {
    auto client = StunClient::Create(io_, timers_, random_, options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  // Starts a query to the peer; its result lands in the returned slot.
  std::shared_ptr<std::optional<absl::StatusOr<MappedAddress>>> Start() {
    auto slot =
        std::make_shared<std::optional<absl::StatusOr<MappedAddress>>>();
    client_->Query("127.0.0.1", peer_.port(), std::nullopt,
                   [slot](absl::StatusOr<MappedAddress> r) { *slot = r; });
    return slot;
  }

  // Runs ready handlers until `done` holds (bounded by real time: loopback
  // delivery is immediate, the bound only guards against a hang).
  bool PumpUntil(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(2);
    while (true) {
      io_.restart();
      io_.poll();
      if (done()) return true;
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(Ms(1));
    }
  }
  void Settle() {  // Lets whatever is in flight land.
    for (int i = 0; i < 5; ++i) {
      io_.restart();
      io_.poll();
      absl::SleepFor(Ms(1));
    }
  }
  // The requests the peer has received, waiting (in real time) for `n`.
  std::vector<std::string> Requests(size_t n) {
    std::vector<std::string> got;
    PumpUntil([&] {
      for (std::string& d : peer_.Receive()) got.push_back(std::move(d));
      return got.size() >= n;
    });
    return got;
  }
  absl::StatusOr<MappedAddress> Result(
      const std::shared_ptr<std::optional<absl::StatusOr<MappedAddress>>>& s) {
    PumpUntil([&] { return s->has_value(); });
    if (!s->has_value()) return absl::InternalError("test: no result");
    return **s;
  }

  asio::io_context io_;
  SimulatedClock clock_;
  SimulatedTimers timers_{clock_};
  testing::FakeRandom random_{{0x0102030405060708, 0x090a0b0c}};
  Peer peer_;
  std::unique_ptr<StunClient> client_;
};

// The whole default schedule, on the wire, in simulated time.
TEST_F(StunTransactionTest, N2RetransmitsOnTheRfcScheduleThenTimesOut) {
  MakeClient();
  const absl::Time start = clock_.Now();
  auto result = Start();
  std::vector<absl::Duration> arrivals;
  std::optional<absl::Duration> failed_at;
  std::string first;
  // Steps of 500 ms: every time of the default schedule is a multiple.
  for (int step = 0; step <= 80 && !failed_at; ++step) {
    if (step > 0) timers_.Advance(Ms(500));
    Settle();
    for (const std::string& r : peer_.Receive()) {
      arrivals.push_back(clock_.Now() - start);
      if (first.empty()) first = r;
      EXPECT_EQ(r, first);  // A retransmission repeats the request.
    }
    if (result->has_value()) failed_at = clock_.Now() - start;
  }
  EXPECT_THAT(arrivals, ElementsAre(Ms(0), Ms(500), Ms(1500), Ms(3500),
                                    Ms(7500), Ms(15500), Ms(31500)));
  EXPECT_EQ(failed_at, Ms(39500));
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ((*result)->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(
      std::string((*result)->status().message()),
      HasSubstr(absl::StrCat("STUN server 127.0.0.1:", peer_.port(),
                             " did not answer: 7 requests at 0, 500ms")));
  // The id came from Random; FINGERPRINT by default.
  EXPECT_EQ(
      first.substr(8, 12),
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12));
  EXPECT_EQ(first.substr(first.size() - 8, 4),
            std::string("\x80\x28\x00\x04", 4));
  EXPECT_EQ(client_->stats().requests_sent, 7u);
  EXPECT_EQ(client_->open_sockets(), 0u);
}

TEST_F(StunTransactionTest, N2AnAnswerToARetransmissionEndsTheQuery) {
  MakeClient();
  auto result = Start();
  ASSERT_EQ(Requests(1).size(), 1u);  // Lost.
  timers_.Advance(Ms(500));
  const std::vector<std::string> second = Requests(1);
  ASSERT_EQ(second.size(), 1u);
  peer_.Send(Answer(second[0]));
  auto m = Result(result);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(
      *m, (MappedAddress{"198.51.100.7", 4242, MappedAddress::Method::kStun}));
  timers_.Advance(absl::Minutes(1));
  Settle();
  EXPECT_TRUE(peer_.Receive().empty());
  EXPECT_EQ(client_->stats().requests_sent, 2u);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(StunTransactionTest, StrayAndCorruptedAnswersAreIgnoredAndCounted) {
  MakeClient();
  auto result = Start();
  const std::string request = Requests(1).at(0);
  std::string corrupted = Answer(request, [](BindingResponse& r) {
    r.xor_mapped_address = StunAddress{"203.0.113.66", 6666};
  });
  corrupted.back() ^= 0x01;  // FINGERPRINT mismatch.
  peer_.Send(
      Answer(request, [](BindingResponse& r) { r.transaction_id[0] ^= 1; }));
  peer_.Send("not STUN at all");
  peer_.Send(corrupted);
  peer_.Send(Answer(request));
  auto m = Result(result);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "198.51.100.7");
  EXPECT_EQ(client_->stats().datagrams_ignored, 3u);
  EXPECT_EQ(client_->stats().responses_matched, 1u);
}

TEST_F(StunTransactionTest, OnlyCorruptedAnswersTimeOutNamingTheLastError) {
  StunOptions o;
  o.rc = 2;
  o.rm = 2;
  MakeClient(o);
  auto result = Start();
  for (int i = 0; i < 2; ++i) {
    std::string a = Answer(Requests(1).at(0));
    a.back() ^= 0x01;
    peer_.Send(a);
    Settle();
    timers_.Advance(Ms(500));
  }
  timers_.Advance(Ms(1000));
  auto m = Result(result);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("ignored 2 undecodable answer(s), the last: STUN: "
                        "FINGERPRINT"));
}

TEST_F(StunTransactionTest, ErrorResponsesCarryTheCode) {
  struct Case {
    int code;
    absl::StatusCode status;
  };
  for (const Case& c : {Case{300, absl::StatusCode::kFailedPrecondition},
                        Case{401, absl::StatusCode::kUnauthenticated},
                        Case{403, absl::StatusCode::kPermissionDenied},
                        Case{420, absl::StatusCode::kFailedPrecondition},
                        Case{500, absl::StatusCode::kUnavailable}}) {
    MakeClient();
    auto result = Start();
    peer_.Send(Answer(Requests(1).at(0), [&c](BindingResponse& r) {
      r.success = false;
      r.xor_mapped_address.reset();
      r.error_code = c.code;
      r.error_reason = "Because";
      if (c.code == 420) r.unknown_attributes = {0x7777};
    }));
    auto m = Result(result);
    EXPECT_EQ(m.status().code(), c.status) << m.status();
    EXPECT_THAT(std::string(m.status().message()),
                HasSubstr(absl::StrCat("answered ", c.code, " (Because)")));
    if (c.code == 420) {
      EXPECT_THAT(std::string(m.status().message()),
                  HasSubstr("unknown attributes: 0x7777"));
    }
  }
}

TEST_F(StunTransactionTest, UnusableAnswersFailTheTransaction) {
  MakeClient();
  auto result = Start();
  peer_.Send(Answer(Requests(1).at(0),
                    [](BindingResponse& r) { r.xor_mapped_address.reset(); }));
  auto m = Result(result);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS"));

  result = Start();
  std::string a = Answer(Requests(1).at(0), {}, /*fingerprint=*/false);
  a += std::string("\x77\x77\x00\x00", 4);  // Comprehension-required.
  a[3] = static_cast<char>(a.size() - 20);
  peer_.Send(a);
  m = Result(result);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("(0x7777)"));

  result = Start();
  peer_.Send(Answer(Requests(1).at(0), [](BindingResponse& r) {
    r.success = false;  // An error response without ERROR-CODE.
  }));
  m = Result(result);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("without ERROR-CODE"));
}

// Concurrent queries share the socket; ids come from Random, and a repeated
// draw is made unique. A duplicate answer is ignored.
TEST_F(StunTransactionTest, ConcurrentQueriesHaveDistinctIds) {
  MakeClient();
  auto a = Start();  // Id 0102...0c.
  auto b = Start();  // FakeRandom is exhausted: id 0.
  auto c = Start();  // Id 0 again: counted up to 00..01.
  EXPECT_EQ(client_->open_sockets(), 1u);
  EXPECT_EQ(client_->in_flight(), 3u);
  std::vector<std::string> requests = Requests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(TransactionIdHex(*PeekTransactionId(requests[1])),
            "000000000000000000000000");
  EXPECT_EQ(TransactionIdHex(*PeekTransactionId(requests[2])),
            "000000000000000000000001");
  // Answers in reverse order, each with its own mapping; one twice.
  for (int i = 2; i >= 0; --i) {
    peer_.Send(Answer(requests[i], [i](BindingResponse& r) {
      r.xor_mapped_address->port = static_cast<uint16_t>(1000 + i);
    }));
  }
  peer_.Send(Answer(requests[0]));
  EXPECT_EQ(Result(a)->port, 1000);
  EXPECT_EQ(Result(b)->port, 1001);
  EXPECT_EQ(Result(c)->port, 1002);
  EXPECT_EQ(client_->open_sockets(), 0u);  // Closed once idle.
}

TEST_F(StunTransactionTest, BadArgumentsFailOnTheLoopNotInsideQuery) {
  MakeClient();
  for (auto [ip, port, from] :
       {std::tuple<std::string, uint16_t, std::optional<LocalBinding>>{
            "stun.example.com", 3478, std::nullopt},
        {"127.0.0.1", 0, std::nullopt},
        {"127.0.0.1", 3478, LocalBinding{"::1", 0}},
        {"127.0.0.1", 3478, LocalBinding{"not-ip", 0}}}) {
    std::optional<absl::Status> status;
    client_->Query(ip, port, from, [&](auto r) { status = r.status(); });
    EXPECT_FALSE(status.has_value());  // Never inside Query.
    PumpUntil([&] { return status.has_value(); });
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->code(), absl::StatusCode::kInvalidArgument) << *status;
  }
  StunOptions bad;
  bad.rc = 0;
  EXPECT_EQ(StunClient::Create(io_, timers_, random_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StunTransactionTest, DestroyingTheClientDropsItsCallbacks) {
  MakeClient();
  int calls = 0;
  for (int i = 0; i < 3; ++i) {
    client_->Query("127.0.0.1", peer_.port(), std::nullopt,
                   [&](auto) { ++calls; });
  }
  client_->Query("bad", 1, std::nullopt, [&](auto) { ++calls; });  // Posted.
  client_.reset();
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.Advance(absl::Minutes(1));
  Settle();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace sipresolver::nat
