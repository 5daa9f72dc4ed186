// Fault injection: a DNS server answering with garbage, a cut-off answer, or
// a truncated (TC) answer with no TCP behind it. The c-ares transport must
// report an error: never crash, never invent records. (That errors are never
// cached is pinned by CachingResolverTest.FailureIsNeverCached.)
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/dns/ares_transport.h"

namespace sipresolver::testing {
namespace {

class HostileDns {
 public:
  using Reply = std::function<std::string(const std::string& query)>;
  explicit HostileDns(Reply reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    thread_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        ++queries_;
        std::string out = reply_(std::string(buf, n));
        sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~HostileDns() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Reply reply_;
  int fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// The query turned into a response header: same id and question, QR set.
std::string AsResponse(std::string query, int ancount, bool truncated) {
  query[2] = static_cast<char>(query[2] | 0x80 | (truncated ? 0x02 : 0));
  query[6] = 0;
  query[7] = static_cast<char>(ancount);
  return query;
}

class HostileDnsTest : public ::testing::Test {
 protected:
  absl::StatusOr<dns::DnsAnswer> Query(const HostileDns& server) {
    dns::AresOptions options;
    options.servers = server.address();
    options.timeout = absl::Milliseconds(200);
    options.tries = 1;
    std::unique_ptr<dns::AresTransport> transport;
    std::promise<absl::StatusOr<dns::DnsAnswer>> done;
    loop_.Start();
    loop_.RunSync([&] {
      transport = *dns::AresTransport::Create(loop_.io_context(), options);
      transport->Query("pbx.test", dns::RecordType::kA,
                       [&](absl::StatusOr<dns::DnsAnswer> r) { done.set_value(std::move(r)); });
    });
    auto f = done.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) std::abort();
    auto result = f.get();
    loop_.RunSync([&] { transport.reset(); });
    return result;
  }
  EventLoop loop_;
};

TEST_F(HostileDnsTest, GarbageIsNotAnAnswer) {
  HostileDns server([](const std::string&) { return std::string(300, '\x5a'); });
  auto r = Query(server);
  EXPECT_FALSE(r.ok());  // Ignored by id; ends as a timeout.
}

TEST_F(HostileDnsTest, CutOffAnswerIsAnErrorNotRecords) {
  HostileDns server([](const std::string& q) { return AsResponse(q, 3, false); });
  auto r = Query(server);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == absl::StatusCode::kDataLoss ||
              r.status().code() == absl::StatusCode::kUnavailable)
      << r.status();
}

TEST_F(HostileDnsTest, TruncatedAnswerWithoutTcpIsUnavailable) {
  HostileDns server([](const std::string& q) { return AsResponse(q, 0, true); });
  auto r = Query(server);
  ASSERT_FALSE(r.ok());  // c-ares retries over TCP: nothing listens there.
}

}  // namespace
}  // namespace sipresolver::testing
