// End to end: agents watch the redundancy decision of a profile whose
// servers are real Kamailio registrars at different SRV priorities, found
// through a real DNS server, with the real sipresolverd in between (S1-S11).
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class WatchDecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistrarStackOptions options;
    options.registrars = 3;  // SRV priorities 10, 20 and 30.
    options.dns_ttl = 2;
    options.extra_flags = {"--cache_max_ttl=2s", "--search_break=1s",
                           "--heartbeat_interval=1s"};
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    pbx1_ = &stack_->registrar(0);
    pbx2_ = &stack_->registrar(1);
    pbx3_ = &stack_->registrar(2);
    dns_ = &stack_->dns();
    daemon_ = &stack_->daemon();
  }

  v1::WatchDecisionRequest Request(bool redundancy = true,
                                   bool secondary = true) {
    v1::WatchDecisionRequest r;
    r.set_agent_id("agent-1");
    v1::ItspProfile& p = *r.mutable_profile();
    p.set_proxy_server("itsp.test");
    p.set_proxy_server_redundancy(redundancy);
    p.set_secondary_registration(secondary);
    p.mutable_check_primary_fallback_interval()->set_seconds(2);
    p.mutable_check_secondary_fallback_interval()->set_seconds(2);
    return r;
  }

  static std::function<bool(const v1::Decision&)> PrimaryIs(uint16_t port) {
    return [port](const v1::Decision& d) {
      return d.state() == v1::DECISION_STATE_ACTIVE &&
             d.primary().port() == port;
    };
  }

  std::unique_ptr<RegistrarStack> stack_;
  // Owned by stack_.
  KamailioServer *pbx1_ = nullptr, *pbx2_ = nullptr, *pbx3_ = nullptr;
  DnsmasqServer* dns_ = nullptr;
  SipresolverdProcess* daemon_ = nullptr;
};

// S6, S8, S9: primary is the best working server, secondary the next one.
TEST_F(WatchDecisionTest, S6_S9_InitialDecisionHasPrimaryAndSecondary) {
  DecisionWatcher agent(daemon_->stub(), Request());
  auto d = agent.WaitFor(PrimaryIs(pbx1_->port()));
  ASSERT_TRUE(d.has_value());
  auto full = agent.WaitFor([&](const v1::Decision& x) {
    return x.primary().port() == pbx1_->port() &&
           x.secondary().port() == pbx2_->port();
  });
  ASSERT_TRUE(full.has_value()) << d->DebugString();
  EXPECT_EQ(full->candidates_size(), 3);
  EXPECT_EQ(full->primary_fallback_size(), 0);
  EXPECT_GT(full->version(), 0u);
  EXPECT_FALSE(full->reason().empty());

  // Operators see the stream, its watcher and what was published.
  const std::string metrics = daemon_->Metrics();
  EXPECT_EQ(MetricValue(metrics, "sipresolver_decision_streams"), 1);
  EXPECT_EQ(MetricValue(metrics, "sipresolver_watchers"), 1);
  EXPECT_GE(
      MetricValue(metrics,
                  "sipresolver_decisions_published_total{state=\"active\"}"),
      1);
  EXPECT_EQ(MetricValue(metrics, "sipresolver_agents{state=\"active\"}"), 1);
}

// S10: the primary dies -> the secondary is promoted at once, a new secondary
// is found; S8: it comes back -> fallback after the check interval.
TEST_F(WatchDecisionTest, S10_S8_FailoverAndFallback) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(agent.WaitFor([&](const v1::Decision& x) {
    return x.primary().port() == pbx1_->port() &&
           x.secondary().port() == pbx2_->port();
  }));
  pbx1_->Pause();
  auto promoted = agent.WaitFor(PrimaryIs(pbx2_->port()));
  ASSERT_TRUE(promoted.has_value());
  ASSERT_TRUE(agent.WaitFor([&](const v1::Decision& x) {
    return x.primary().port() == pbx2_->port() &&
           x.secondary().port() == pbx3_->port();
  }));
  pbx1_->Resume();
  // Fallback at the next 2 s check (exact timing: the engine's unit tests).
  auto back = agent.WaitFor(PrimaryIs(pbx1_->port()), absl::Seconds(15));
  ASSERT_TRUE(back.has_value());
}

// S6: a profile whose servers are already probed, and settled, for another
// profile decides as soon as its own name resolves: no health change will
// come to tell its watcher.
TEST_F(WatchDecisionTest,
       S6_ServersAlreadyProbedForAnotherProfileDecideAtOnce) {
  DnsZone zone = stack_->zone();  // Another name for the same registrars.
  for (const SrvHost& srv : stack_->zone().srv) {
    zone.srv.push_back(
        {"alias.test", srv.target, srv.port, srv.priority, srv.weight});
  }
  ASSERT_TRUE(dns_->Restart(zone).ok());
  DecisionWatcher first(daemon_->stub(), Request());
  ASSERT_TRUE(first.WaitFor(PrimaryIs(pbx1_->port())));
  // Settled: every server has its verdict, no more changes to hear.
  ASSERT_TRUE(Eventually([&] {
    v1::ListServersResponse servers;
    grpc::ClientContext context;
    if (!daemon_->stub()
             .ListServers(&context, v1::ListServersRequest(), &servers)
             .ok())
      return false;
    int settled = 0;
    for (const v1::ServerStatus& s : servers.servers())
      settled += s.health().state() == v1::HEALTH_STATE_HEALTHY ? 1 : 0;
    return settled == 3;
  }));
  v1::WatchDecisionRequest other = Request();
  other.mutable_profile()->set_proxy_server("alias.test");  // Not cached yet.
  DecisionWatcher second(daemon_->stub(), other);
  ASSERT_TRUE(second.WaitFor(PrimaryIs(pbx1_->port())));
}

// S3: with an outbound proxy, redundancy applies to it: its candidates are
// the ones probed and decided on, not the registrar's.
TEST_F(WatchDecisionTest, S3_OutboundProxyIsTheRedundancyTarget) {
  v1::WatchDecisionRequest r = Request();
  r.mutable_profile()->set_proxy_server("registrar.nowhere.test");  // NXDOMAIN.
  r.mutable_profile()->set_outbound_proxy("itsp.test");
  DecisionWatcher agent(daemon_->stub(), r);
  auto d = agent.WaitFor(PrimaryIs(pbx1_->port()));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->candidates_size(), 3);
  pbx1_->Pause();
  ASSERT_TRUE(agent.WaitFor(PrimaryIs(pbx2_->port())));
}

// N2: without a keep-alive server, keep-alives go where REGISTER goes, and
// follow the primary through a failover.
TEST_F(WatchDecisionTest, N2_KeepAliveTargetFollowsTheFailover) {
  v1::WatchDecisionRequest r = Request();
  r.mutable_profile()->set_keep_alive_enable(true);
  r.mutable_profile()->set_keep_alive_msg_type(v1::KEEP_ALIVE_MSG_TYPE_STUN);
  DecisionWatcher agent(daemon_->stub(), r);
  auto first = agent.WaitFor(PrimaryIs(pbx1_->port()));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->keep_alive_target().port(), pbx1_->port());
  pbx1_->Pause();
  auto after = agent.WaitFor(PrimaryIs(pbx2_->port()));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->keep_alive_target().port(), pbx2_->port());
  EXPECT_EQ(after->keep_alive_target().address(), "127.0.0.1");
}

// S4: redundancy off -> one candidate, kept whatever its health.
TEST_F(WatchDecisionTest, S4_RedundancyOffHasOneCandidateAndNoSwitching) {
  DecisionWatcher agent(daemon_->stub(), Request(/*redundancy=*/false));
  auto d = agent.WaitFor([](const v1::Decision& x) {
    return x.state() == v1::DECISION_STATE_ACTIVE;
  });
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->candidates_size(), 1);
  EXPECT_FALSE(d->has_secondary());
}

// S11: a DNS change after the TTL rearranges the decision.
TEST_F(WatchDecisionTest, S11_DnsChangeRearrangesAfterTheTtl) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(agent.WaitFor(PrimaryIs(pbx1_->port())));
  DnsZone changed = stack_->zone();
  changed.srv = {{"itsp.test", "pbx.test", pbx3_->port(), 5, 10},
                 {"itsp.test", "pbx.test", pbx2_->port(), 20, 10}};
  ASSERT_TRUE(dns_->Restart(changed).ok());
  // pbx1 is gone: the secondary (pbx2) is promoted; pbx3 is now the higher
  // priority and becomes primary at the next fallback check.
  auto d = agent.WaitFor(
      [&](const v1::Decision& x) {
        return x.candidates_size() == 2 && x.primary().port() == pbx3_->port();
      },
      absl::Seconds(10));
  ASSERT_TRUE(d.has_value());
}

// Nothing answers the probes and no device says so either: the service
// cannot confirm anything, so the agent keeps the device's own choice (fail
// static; NO_WORKING_SERVER needs devices to confirm: fail_static_test.cc).
// When a registrar answers again, S7's next search finds it.
TEST_F(WatchDecisionTest, S7_NothingAnsweringIsUnconfirmedThenRecovery) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(agent.WaitFor(PrimaryIs(pbx1_->port())));
  for (auto* k : {&pbx1_, &pbx2_, &pbx3_}) (*k)->Pause();
  auto unconfirmed = agent.WaitFor(
      [](const v1::Decision& x) {
        return x.assurance() == v1::ASSURANCE_UNCONFIRMED;
      },
      absl::Seconds(8));
  ASSERT_TRUE(unconfirmed.has_value());
  EXPECT_EQ(unconfirmed->state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_TRUE(unconfirmed->has_primary());
  EXPECT_EQ(MetricValue(daemon_->Metrics(), "sipresolver_unconfirmed_agents"),
            1);
  pbx2_->Resume();
  ASSERT_TRUE(agent.WaitFor(
      [&](const v1::Decision& x) {
        return PrimaryIs(pbx2_->port())(x) &&
               x.assurance() == v1::ASSURANCE_PROBES;
      },
      absl::Seconds(8)));
  const std::string metrics = daemon_->Metrics();
  EXPECT_EQ(MetricValue(metrics, "sipresolver_unconfirmed_agents"), 0);
  EXPECT_EQ(MetricValue(metrics, "sipresolver_agents{state=\"active\"}"), 1);
  pbx1_->Resume();
  pbx3_->Resume();
}

// --probe_allow's ports: a server on a port its network does not allow is
// refused by name and port, so no client can make the prober walk an ITSP's
// ports.
TEST_F(WatchDecisionTest, PortOutsideTheAllowedPortsIsPermissionDenied) {
  auto daemon = SipresolverdProcess::Start(
      dns_->address(), {"--probe_allow=127.0.0.1/32:5060-5061"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  v1::WatchDecisionRequest literal = Request();
  literal.mutable_profile()->set_proxy_server("127.0.0.1");
  literal.mutable_profile()->set_proxy_server_port(5999);
  DecisionWatcher agent((*daemon)->stub(), literal);
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("127.0.0.1 port 5999 is not among the "
                                      "ports --probe_allow allows"),
            std::string::npos)
      << end->error_message();
}

// The allowlist is checked before any packet: a profile naming a server
// outside it gets PERMISSION_DENIED naming the server, and nothing is probed.
TEST_F(WatchDecisionTest,
       ProfileOutsideTheAllowlistIsPermissionDeniedNamingTheHost) {
  auto daemon = SipresolverdProcess::Start(dns_->address(),
                                           {"--probe_allow=192.0.2.0/24"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  // Found through DNS: refused once resolved.
  DecisionWatcher agent((*daemon)->stub(), Request());
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("itsp.test"), std::string::npos)
      << end->error_message();
  EXPECT_NE(end->error_message().find("127.0.0.1"), std::string::npos)
      << end->error_message();
  // An agent retrying is refused at once.
  DecisionWatcher again((*daemon)->stub(), Request());
  EXPECT_EQ(again.WaitForEnd()->error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // An IP literal: refused before the first decision.
  v1::WatchDecisionRequest literal = Request();
  literal.mutable_profile()->set_proxy_server("10.1.2.3");
  DecisionWatcher direct((*daemon)->stub(), literal);
  end = direct.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("10.1.2.3"), std::string::npos)
      << end->error_message();
  EXPECT_TRUE(direct.Received().empty());

  EXPECT_GE(MetricValue((*daemon)->Metrics(),
                        "sipresolver_probe_targets_refused_total{code="
                        "\"PERMISSION_DENIED\"}"),
            2);
  EXPECT_EQ(pbx1_->CountRequests("REGISTER"), 0);
}

// A DNS renewal that brings in a refused address ends the profile's streams
// the same way: the decision the device would make includes that server.
TEST_F(WatchDecisionTest, RenewalBringingARefusedAddressIsPermissionDenied) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(agent.WaitFor(PrimaryIs(pbx1_->port())));
  DnsZone changed = stack_->zone();
  changed.hosts.push_back({"inside.test", {"10.9.9.9"}});
  changed.srv.push_back({"itsp.test", "inside.test", 5060, 40, 10});
  ASSERT_TRUE(dns_->Restart(changed).ok());
  auto end = agent.WaitForEnd();  // After the 2 s TTL.
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("10.9.9.9"), std::string::npos)
      << end->error_message();
  EXPECT_EQ(
      MetricValue(daemon_->Metrics(), "sipresolver_agents{state=\"active\"}"),
      0);
}

// More servers than the probe caps allow: RESOURCE_EXHAUSTED naming the cap
// (agents retry it), not a decision that ignores a server.
TEST_F(WatchDecisionTest, ProfileOverTheProbeCapsIsResourceExhausted) {
  auto daemon = SipresolverdProcess::Start(
      dns_->address(),
      {"--probe_allow=127.0.0.1/32", "--probe_max_endpoints_per_domain=2"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  DecisionWatcher agent((*daemon)->stub(), Request());  // Three servers.
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(end->error_message().find("--probe_max_endpoints_per_domain"),
            std::string::npos)
      << end->error_message();
}

// A domain admits what its name resolves to, but never a loopback address.
TEST_F(WatchDecisionTest, AllowedDomainResolvingToLoopbackIsPermissionDenied) {
  auto daemon =
      SipresolverdProcess::Start(dns_->address(), {"--probe_allow=itsp.test"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  DecisionWatcher agent((*daemon)->stub(), Request());
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("loopback"), std::string::npos)
      << end->error_message();
  EXPECT_EQ(pbx1_->CountRequests("REGISTER"), 0);
}

// The default: nothing may be probed, so there is nothing to decide.
TEST_F(WatchDecisionTest, EmptyAllowlistIsPermissionDeniedNamingTheFlag) {
  auto daemon =
      SipresolverdProcess::Start(dns_->address());  // No --probe_allow.
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  DecisionWatcher agent((*daemon)->stub(), Request());
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("--probe_allow"), std::string::npos)
      << end->error_message();
  EXPECT_EQ(pbx1_->CountRequests("REGISTER"), 0);
}

// The agents gauge counts connected agents only: one leaving is one less.
TEST_F(WatchDecisionTest, AgentsGaugeCountsConnectedAgents) {
  auto leaving = std::make_unique<DecisionWatcher>(daemon_->stub(), Request());
  DecisionWatcher staying(daemon_->stub(), Request());
  ASSERT_TRUE(leaving->WaitFor(PrimaryIs(pbx1_->port())));
  ASSERT_TRUE(staying.WaitFor(PrimaryIs(pbx1_->port())));
  const std::string active = "sipresolver_agents{state=\"active\"}";
  EXPECT_EQ(MetricValue(daemon_->Metrics(), active), 2);
  leaving.reset();
  EXPECT_TRUE(
      Eventually([&] { return MetricValue(daemon_->Metrics(), active) == 1; }));
}

TEST_F(WatchDecisionTest, HeartbeatsKeepComing) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(
      agent.WaitFor([](const v1::Decision& x) { return x.heartbeat(); }));
}

TEST_F(WatchDecisionTest, BadProfileIsInvalidArgumentNamingTheField) {
  v1::WatchDecisionRequest r = Request();
  r.mutable_profile()->set_proxy_server("bad name");
  DecisionWatcher agent(daemon_->stub(), r);
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(end->error_message().find("profile.proxy_server"),
            std::string::npos)
      << end->error_message();
  r = Request();
  r.set_agent_id("");
  DecisionWatcher anonymous(daemon_->stub(), r);
  EXPECT_EQ(anonymous.WaitForEnd()->error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(WatchDecisionTest, ShutdownEndsStreamsWithUnavailable) {
  DecisionWatcher agent(daemon_->stub(), Request());
  ASSERT_TRUE(agent.WaitFor(PrimaryIs(pbx1_->port())));
  daemon_->process().Signal(SIGTERM);
  auto end = agent.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(daemon_->process().Wait(absl::Seconds(15)), 0);
}

}  // namespace
}  // namespace sipresolver::testing
