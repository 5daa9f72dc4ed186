// End to end: sipresolverd probes the servers a Resolve returned (real
// Kamailio registrars found through a real DNS server) and ListServers shows
// their live health, as an operator sees it with grpcurl.
#include <chrono>

#include "gtest/gtest.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class ListServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* k : {&primary_, &secondary_}) {
      auto server = KamailioServer::Start();
      ASSERT_TRUE(server.ok()) << server.status();
      *k = *std::move(server);
    }
    DnsZone zone;
    zone.hosts = {{"pbx1.test", {"127.0.0.1"}}};
    zone.srv = {{"itsp.test", "pbx1.test", primary_->port(), 10, 10},
                {"itsp.test", "pbx1.test", secondary_->port(), 20, 10}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    auto daemon = SipresolverdProcess::Start(
        dns_->address(), {"--probe_allow=127.0.0.1/32", "--probe_interval=200ms",
                          "--probe_edge_interval=100ms", "--probe_timeout=300ms"});
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  v1::ResolveResponse Resolve() {
    v1::ResolveRequest request;
    request.set_server("itsp.test");
    request.set_redundancy(true);
    v1::ResolveResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(daemon_->stub().Resolve(&context, request, &response).ok());
    return response;
  }

  v1::ListServersResponse List() {
    grpc::ClientContext context;
    v1::ListServersResponse response;
    EXPECT_TRUE(daemon_->stub().ListServers(&context, {}, &response).ok());
    return response;
  }

  // Health state of the endpoint on `port`, as ListServers reports it.
  v1::HealthState StateOf(uint16_t port) {
    const v1::ListServersResponse list = List();
    for (const auto& s : list.servers()) {
      if (s.endpoint().port() == port) return s.health().state();
    }
    return v1::HEALTH_STATE_UNSPECIFIED;
  }

  bool WaitForState(uint16_t port, v1::HealthState state) {
    for (int i = 0; i < 300; ++i) {  // 3 s.
      if (StateOf(port) == state) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<KamailioServer> primary_, secondary_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
};

TEST_F(ListServersTest, S6_ShowsLiveHealthOfResolvedServers) {
  EXPECT_EQ(List().servers_size(), 0);  // Nothing resolved, nothing probed.
  Resolve();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  ASSERT_TRUE(WaitForState(secondary_->port(), v1::HEALTH_STATE_HEALTHY));

  v1::ListServersResponse list = List();
  ASSERT_EQ(list.servers_size(), 2);
  const v1::ServerStatus& s = list.servers(0);
  EXPECT_EQ(s.endpoint().address(), "127.0.0.1");
  EXPECT_EQ(s.endpoint().transport(), v1::TRANSPORT_UDP);
  ASSERT_EQ(s.domains_size(), 1);
  EXPECT_EQ(s.domains(0), "itsp.test");
  EXPECT_EQ(s.health().last_response_code(), 401u);  // Challenge: working.
  EXPECT_EQ(s.health().via_received(), "127.0.0.1");
  EXPECT_GT(s.health().last_change().seconds(), 1700000000);  // Wall clock.

  // The next Resolve carries the health it knows.
  v1::ResolveResponse resolved = Resolve();
  ASSERT_EQ(resolved.candidates_size(), 2);
  EXPECT_EQ(resolved.candidates(0).health().state(), v1::HEALTH_STATE_HEALTHY);
}

TEST_F(ListServersTest, S6_StoppedRegistrarTurnsUnhealthyAndBack) {
  Resolve();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  primary_->Pause();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_UNHEALTHY));
  EXPECT_EQ(StateOf(secondary_->port()), v1::HEALTH_STATE_HEALTHY);
  primary_->Resume();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));

  const std::string metrics = daemon_->Metrics();
  EXPECT_GT(MetricValue(metrics, "sipresolver_probes_total{method=\"REGISTER\",outcome=\"timeout\"}"), 0);
  EXPECT_GT(MetricValue(metrics, "sipresolver_probes_total{method=\"REGISTER\",outcome=\"success\"}"), 0);
  EXPECT_GE(MetricValue(metrics, "sipresolver_endpoint_transitions_total{from=\"healthy\",to=\"unhealthy\"}"), 1);
  EXPECT_EQ(MetricValue(metrics, "sipresolver_endpoints{state=\"healthy\"}"), 2);
}

}  // namespace
}  // namespace sipresolver::testing
