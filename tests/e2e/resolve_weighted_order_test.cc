// End to end: Resolve calls answered from one snapshot (a burst of devices
// asking at once) each draw their own RFC 2782 weighted order (R3), with
// redundancy and without (S4), so a fleet splits by the weights the ITSP
// published instead of all landing on one draw's server.
//
// The bounds are wide enough never to flake (each at least 4.5 standard
// deviations) while one order shared by the calls, what a snapshot that kept
// the whole ordered answer gave, misses them by far.
#include <chrono>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/sipresolverd_process.h"

namespace sipresolver::testing {
namespace {

class ResolveWeightedOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsZone zone;
    zone.ttl = 600;  // The snapshot lives by the smallest TTL.
    zone.hosts = {{"pbx1.test", {"127.0.0.11"}},
                  {"pbx2.test", {"127.0.0.12"}},
                  {"pbx3.test", {"127.0.0.13"}}};
    zone.srv = {{"_sip._udp.wt.test", "pbx1.test", 5060, 10, 10},
                {"_sip._udp.wt.test", "pbx2.test", 5060, 10, 30},
                {"_sip._udp.wt.test", "pbx3.test", 5060, 10, 60}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    // Every call of the test falls within one snapshot's age.
    auto daemon = SipresolverdProcess::Start(dns_->address(),
                                             {"--resolve_snapshot_age=10s"});
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  // How often each order of the three targets' addresses came, over `calls`
  // Resolve calls.
  std::map<std::string, int> CountOrders(bool redundancy, int calls) {
    std::map<std::string, int> orders;
    for (int i = 0; i < calls; ++i) {
      v1::ResolveRequest request;
      request.set_server("wt.test");
      request.set_redundancy(redundancy);
      v1::ResolveResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      grpc::Status status =
          daemon_->stub().Resolve(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.candidates_size(), redundancy ? 3 : 1);
      std::vector<std::string> addresses;
      for (const v1::Candidate& c : response.candidates())
        addresses.push_back(c.address().substr(c.address().size() - 2));
      orders[absl::StrJoin(addresses, ",")]++;
    }
    return orders;
  }

  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
};

// R3, S4: without redundancy the one address returned is the first of a
// fresh draw each time: weights 10/30/60 give shares 0.1/0.3/0.6.
TEST_F(ResolveWeightedOrderTest, R3_S4_EachCallDrawsItsOwnFirstServer) {
  const int kCalls = 1000;
  std::map<std::string, int> first = CountOrders(/*redundancy=*/false, kCalls);
  EXPECT_NEAR(first["11"] / double(kCalls), 0.1, 0.07);
  EXPECT_NEAR(first["12"] / double(kCalls), 0.3, 0.1);
  EXPECT_NEAR(first["13"] / double(kCalls), 0.6, 0.1);
}

// R3: with redundancy every call gets the whole list in its own weighted
// order; the six orders come with RFC 2782's shares.
TEST_F(ResolveWeightedOrderTest, R3_EachCallDrawsItsOwnOrder) {
  const int kCalls = 3000;
  std::map<std::string, int> orders = CountOrders(/*redundancy=*/true, kCalls);
  // P(first) * P(second | first), weights 10/30/60.
  const std::map<std::string, double> expected = {
      {"11,12,13", 0.1 * 30 / 90}, {"11,13,12", 0.1 * 60 / 90},
      {"12,11,13", 0.3 * 10 / 70}, {"12,13,11", 0.3 * 60 / 70},
      {"13,11,12", 0.6 * 10 / 40}, {"13,12,11", 0.6 * 30 / 40}};
  for (const auto& [order, share] : expected) {
    EXPECT_NEAR(orders[order] / double(kCalls), share, 0.05) << order;
  }
}

}  // namespace
}  // namespace sipresolver::testing
