// ProfileWatcher on simulated time: what one agent's stream receives as DNS
// answers and probe results change (rules S3, S5, S11 as the server layer
// applies them), heartbeats and versions.
#include "server/profile_watcher.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/watch_fixture.h"

namespace sipresolver::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using ProfileWatcherTest = WatchFixture;

TEST_F(ProfileWatcherTest, FirstDecisionAtOnceThenActiveOnThePrimary) {
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  // Resolved, probes in flight: the agent hears at once that it must wait.
  ASSERT_EQ(agent->decisions.size(), 1u);
  EXPECT_EQ(agent->last().state(), v1::DECISION_STATE_SEARCHING);
  EXPECT_THAT(agent->last().reason(), HasSubstr("waiting for 192.0.2.1:5060"));

  RunProbes();
  EXPECT_EQ(agent->last().state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.1");
  EXPECT_EQ(agent->last().assurance(), v1::ASSURANCE_PROBES);
}

TEST_F(ProfileWatcherTest, S5_PrimaryThatStopsAnsweringIsReplacedAtOnce) {
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  RunProbes();
  const uint64_t active_version = agent->last().version();

  prober_.Set(kPbx1, testing::Timeout());
  timers_.Advance(absl::Seconds(10));  // The next regular probe.
  RunProbes();
  EXPECT_EQ(agent->last().state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.2");
  EXPECT_GT(agent->last().version(), active_version);
}

TEST_F(ProfileWatcherTest, S11_AddressChangeFollowedWhenTheTtlRunsOut) {
  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10}}, /*ttl=*/60);
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  RunProbes();
  ASSERT_EQ(agent->last().primary().address(), "192.0.2.1");

  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.7", 10}}, /*ttl=*/60);
  timers_.Advance(absl::Seconds(30));  // Still within the TTL: no change.
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.1");
  timers_.Advance(absl::Seconds(31));
  RunProbes();
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.7");
}

// The reason follows every lookup, not only the first: a later, different
// DNS failure reaches the agents (with the next heartbeat: the decision
// itself did not change).
TEST_F(ProfileWatcherTest, ALaterDnsFailureReachesTheReason) {
  const std::vector<std::string> names = {"missing.test",
                                          "_sip._udp.missing.test"};
  for (const std::string& name : names) {
    for (dns::RecordType type : {kA, kSrv})
      transport_.Set(name, type, absl::UnavailableError("resolver is down"));
  }
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1", "missing.test")).ok());
  ASSERT_THAT(agent->last().reason(), HasSubstr("DNS failed"));
  // The retry gets an answer: the name does not exist.
  for (const std::string& name : names) {
    for (dns::RecordType type : {kA, kSrv})
      transport_.Set(name, type, testing::NxDomain(name, type));
  }
  timers_.Advance(options_.dns_retry);
  agent->heartbeats.clear();
  timers_.Advance(options_.heartbeat);
  ASSERT_FALSE(agent->heartbeats.empty());
  EXPECT_THAT(agent->heartbeats.back().reason(), StartsWith("DNS: "));
  EXPECT_THAT(agent->heartbeats.back().reason(), Not(HasSubstr("DNS failed")));
}

TEST_F(ProfileWatcherTest, S7_DnsFailureIsTheReasonUntilARetrySucceeds) {
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1", "missing.test")).ok());
  // No candidate ever: nothing to hold, so S7 with the lookups' error.
  EXPECT_EQ(agent->last().state(), v1::DECISION_STATE_NO_WORKING_SERVER);
  EXPECT_THAT(agent->last().reason(), StartsWith("DNS: "));
  EXPECT_THAT(agent->last().reason(), HasSubstr("missing.test"));
  ASSERT_TRUE(agent->last().has_next_search_time());

  SetSrv("missing.test", {{"pbx1.itsp.test", "192.0.2.1", 10}});
  timers_.Advance(options_.dns_retry);
  // The device searches again at next_search_time (S7), now with a server.
  timers_.Advance(absl::Seconds(agent->last().next_search_time().seconds() -
                                absl::ToUnixSeconds(clock_.Now())));
  RunProbes();
  EXPECT_EQ(agent->last().state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.1");
}

TEST_F(ProfileWatcherTest, HeartbeatRepeatsTheLastDecision) {
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  RunProbes();
  const size_t sent = agent->decisions.size();
  timers_.Advance(options_.heartbeat);
  ASSERT_FALSE(agent->heartbeats.empty());
  const v1::Decision& beat = agent->heartbeats.back();
  EXPECT_TRUE(beat.heartbeat());
  EXPECT_EQ(beat.version(), agent->last().version());
  EXPECT_EQ(beat.primary().address(), agent->last().primary().address());
  EXPECT_EQ(agent->decisions.size(), sent);  // No decision without a change.
}

TEST_F(ProfileWatcherTest, VersionsGrowAcrossReconnectsAndPastTheAppliedOne) {
  auto first = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(first, Request("dev-1")).ok());
  RunProbes();
  const uint64_t before = first->last().version();
  hub().Unsubscribe(first.get());

  // The same agent later, e.g. on another replica: versions never go back.
  timers_.Advance(absl::Seconds(5));
  auto again = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(again, Request("dev-1")).ok());
  EXPECT_GT(again->last().version(), before);

  // An agent that applied a version from a replica whose clock runs ahead.
  WatchRequest ahead = Request("dev-2");
  ahead.last_applied_version = again->last().version() + 1'000'000'000;
  auto third = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(third, ahead).ok());
  EXPECT_GT(third->last().version(), ahead.last_applied_version);
}

TEST_F(ProfileWatcherTest, AgentsOfOneProfileEachGetTheirOwnDecision) {
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(a, Request("dev-a")).ok());
  ASSERT_TRUE(Subscribe(b, Request("dev-b")).ok());
  RunProbes();
  EXPECT_EQ(a->last().state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(b->last().state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(hub().watchers(), 1u);
  // One probe stream per server, however many agents: one probe in the
  // next healthy interval.
  ASSERT_EQ(tracker().Get(kPbx1)->counters.state,
            health::HealthState::kHealthy);
  auto probes_of_pbx1 = [&] {
    return std::count_if(
        prober_.requests().begin(), prober_.requests().end(),
        [&](const sip::ProbeRequest& r) { return r.endpoint == kPbx1; });
  };
  const auto before = probes_of_pbx1();
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();
  EXPECT_EQ(probes_of_pbx1() - before, 1);
}

TEST_F(ProfileWatcherTest, ServerOutsideTheAllowlistRefusesTheProfile) {
  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10},
                       {"evil.itsp.test", "198.51.100.1", 20}});
  auto agent = std::make_shared<RecordingSink>();
  const absl::Status s = Subscribe(agent, Request("dev-1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("itsp.test"));
  EXPECT_TRUE(agent->decisions.empty());
  for (const sip::ProbeRequest& probe : prober_.requests()) {
    EXPECT_NE(probe.endpoint.address, "198.51.100.1");  // Never probed.
  }
}

TEST_F(ProfileWatcherTest, AgentThatStopsReadingAfterItsEndIsCutOff) {
  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10}}, /*ttl=*/60);
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  RunProbes();
  // The renewal brings a server the operator does not allow: the agent's
  // stream is ended, and an ended stream that stalls is cancelled at the
  // next heartbeat instead of being held forever.
  SetSrv("itsp.test", {{"pbx1.itsp.test", "198.51.100.1", 10}}, /*ttl=*/60);
  agent->stalled = true;
  timers_.Advance(absl::Seconds(61));
  ASSERT_TRUE(agent->ended.has_value());
  EXPECT_EQ(agent->ended->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(agent->reconnect_now);
  timers_.Advance(options_.heartbeat);
  EXPECT_GE(agent->stall_checks, 1);
}

}  // namespace
}  // namespace sipresolver::server
