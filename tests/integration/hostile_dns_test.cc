// Fault injection: a DNS server answering with garbage, a cut-off answer, or
// a truncated (TC) answer with no TCP behind it. The c-ares transport must
// report an error: never crash, never invent records. (That errors are never
// cached is pinned by CachingResolverTest.FailureIsNeverCached.)
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/dns/ares_transport.h"
#include "tests/integration/hostile_udp_server.h"

namespace sipresolver::testing {
namespace {

// A DNS server that answers each query with the one datagram `reply` makes
// of it.
class HostileDns : public HostileUdpServer {
 public:
  explicit HostileDns(
      std::function<std::string(const std::string& query)> reply)
      : HostileUdpServer([reply = std::move(reply)](const std::string& query) {
          return std::vector<std::string>{reply(query)};
        }) {}
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
                       [&](absl::StatusOr<dns::DnsAnswer> r) {
                         done.set_value(std::move(r));
                       });
    });
    auto f = done.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      std::abort();
    auto result = f.get();
    loop_.RunSync([&] { transport.reset(); });
    return result;
  }
  EventLoop loop_;
};

TEST_F(HostileDnsTest, GarbageIsNotAnAnswer) {
  HostileDns server(
      [](const std::string&) { return std::string(300, '\x5a'); });
  auto r = Query(server);
  EXPECT_FALSE(r.ok());  // Ignored by id; ends as a timeout.
}

TEST_F(HostileDnsTest, CutOffAnswerIsAnErrorNotRecords) {
  HostileDns server(
      [](const std::string& q) { return AsResponse(q, 3, false); });
  auto r = Query(server);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == absl::StatusCode::kDataLoss ||
              r.status().code() == absl::StatusCode::kUnavailable)
      << r.status();
}

TEST_F(HostileDnsTest, TruncatedAnswerWithoutTcpIsUnavailable) {
  HostileDns server(
      [](const std::string& q) { return AsResponse(q, 0, true); });
  auto r = Query(server);
  ASSERT_FALSE(r.ok());  // c-ares retries over TCP: nothing listens there.
}

}  // namespace
}  // namespace sipresolver::testing
