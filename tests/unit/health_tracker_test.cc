// The health tracker on a simulated clock with a scripted prober.
#include "lib/health/health_tracker.h"

#include "gtest/gtest.h"
#include "tests/unit/health_tracker_fixture.h"

namespace sipresolver::health {
namespace {

using HealthTrackerTest = HealthTrackerFixture;

TEST_F(HealthTrackerTest, S6_NewEndpointIsProbedAtOnce) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  EXPECT_EQ(State(kPbx), HealthState::kUnknown);
  timers_.RunDue();
  ASSERT_EQ(prober_.pending(), 1u);
  EXPECT_EQ(prober_.requests()[0].domain, "itsp.test");
  prober_.Set(kPbx, Reply(401));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_EQ(tracker().Get(kPbx)->last_response_code, 401);
}

TEST_F(HealthTrackerTest, EndpointOutsideThePolicyIsNeverProbed) {
  absl::Status s =
      tracker().Touch({"198.51.100.1", 5060, Transport::kUdp}, "evil.test");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("198.51.100.1"), std::string::npos);
  timers_.Advance(absl::Minutes(1));
  EXPECT_TRUE(prober_.requests().empty());
  EXPECT_TRUE(tracker().List().empty());
}

TEST_F(HealthTrackerTest, StoppedServerGoesDownAfterTheThresholdAtEdgeSpeed) {
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  prober_.Complete();
  ASSERT_EQ(State(kPbx), HealthState::kHealthy);

  prober_.Set(kPbx, Timeout());
  timers_.Advance(absl::Seconds(10));  // Stable interval.
  ASSERT_EQ(prober_.Complete(), 1);
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);  // 1 of 2 timeouts.
  timers_.Advance(absl::Seconds(1));              // Edge interval, not 10 s.
  ASSERT_EQ(prober_.Complete(), 1);
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 2);
}

TEST_F(HealthTrackerTest,
       ErrorReplyGoesDownAtOnceAndRecoveryNeedsTheThreshold) {
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  prober_.Complete();
  prober_.Set(kPbx, Reply(503));
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
  const absl::Time down_at = tracker().Get(kPbx)->last_change;

  prober_.Set(kPbx, Reply(200));
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);  // 1 of 2 successes.
  timers_.Advance(absl::Seconds(1));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_GT(tracker().Get(kPbx)->last_change, down_at);
}

TEST_F(HealthTrackerTest, OneProbeInFlightPerEndpoint) {
  tracker().Touch(kPbx, "a.test");
  tracker().Touch(kPbx, "b.test");
  timers_.Advance(absl::Milliseconds(500));  // Unanswered, within its RTO.
  EXPECT_EQ(prober_.pending(), 1u);
  EXPECT_EQ(tracker().Get(kPbx)->domains.size(), 2u);
}

TEST_F(HealthTrackerTest, IdleEndpointsStopBeingProbed) {
  tracker().Touch(kPbx, "itsp.test");
  for (int i = 0; i < 40; ++i) {  // 40 x 10 s > 5 min idle timeout.
    timers_.Advance(absl::Seconds(10));
    prober_.Complete();
  }
  EXPECT_FALSE(tracker().Get(kPbx).has_value());
  const size_t probes = prober_.requests().size();
  timers_.Advance(absl::Minutes(5));
  EXPECT_EQ(prober_.requests().size(), probes);
}

TEST_F(HealthTrackerTest, TouchKeepsAnEndpointProbed) {
  tracker().Touch(kPbx, "itsp.test");
  for (int i = 0; i < 60; ++i) {
    timers_.Advance(absl::Seconds(10));
    prober_.Complete();
    tracker().Touch(kPbx, "itsp.test");
  }
  EXPECT_TRUE(tracker().Get(kPbx).has_value());
}

TEST_F(HealthTrackerTest, CredentialsOfTheDomainAreUsed) {
  tracker("192.0.2.0/24", 1000, "itsp.test alice secret\n");
  tracker().Touch(kPbx, "itsp.test");
  tracker().Touch(kOther, "other.test");
  timers_.RunDue();
  ASSERT_EQ(prober_.requests().size(), 2u);
  for (const auto& r : prober_.requests()) {
    if (r.domain == "itsp.test") {
      ASSERT_TRUE(r.credentials.has_value());
      EXPECT_EQ(r.credentials->username, "alice");
    } else {
      EXPECT_FALSE(r.credentials.has_value());
    }
  }
}

TEST_F(HealthTrackerTest, WithCredentialsAChallengeIsAFailure) {
  tracker("192.0.2.0/24", 1000, "itsp.test alice wrong\n");
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  prober_.Set(kPbx, Reply(401));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
}

TEST_F(HealthTrackerTest, GlobalRateLimitSpacesProbes) {
  tracker("192.0.2.0/24", /*rate=*/1);
  for (int i = 0; i < 5; ++i) {
    tracker().Touch(
        {"192.0.2." + std::to_string(20 + i), 5060, Transport::kUdp},
        "itsp.test");
  }
  timers_.RunDue();
  EXPECT_EQ(prober_.requests().size(), 1u);
  timers_.Advance(absl::Seconds(2));
  EXPECT_EQ(prober_.requests().size(), 3u);
}

TEST_F(HealthTrackerTest, EndpointsPerDomainAreCapped) {
  options_.max_endpoints_per_domain = 2;
  EXPECT_TRUE(
      tracker().Touch({"192.0.2.1", 5060, Transport::kUdp}, "itsp.test").ok());
  EXPECT_TRUE(
      tracker().Touch({"192.0.2.2", 5060, Transport::kUdp}, "itsp.test").ok());
  EXPECT_EQ(
      tracker().Touch({"192.0.2.3", 5060, Transport::kUdp}, "itsp.test").code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      tracker().Touch({"192.0.2.3", 5060, Transport::kUdp}, "other.test").ok());
}

// IP-literal servers share no name, so only the total cap bounds them.
TEST_F(HealthTrackerTest, IpLiteralEndpointsAreCappedOnlyInTotal) {
  options_.max_endpoints_per_domain = 2;
  options_.max_endpoints = 4;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_TRUE(
        tracker()
            .Touch({"192.0.2." + std::to_string(i), 5060, Transport::kUdp}, "")
            .ok())
        << i;
  }
  absl::Status full = tracker().Touch({"192.0.2.5", 5060, Transport::kUdp}, "");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("--probe_max_endpoints"), std::string::npos)
      << full;
}

TEST_F(HealthTrackerTest, LatencyAndViaAreKept) {
  sip::ProbeResult r = Reply(200);
  r.latency = absl::Milliseconds(40);
  r.via_received = "203.0.113.5";
  r.via_rport = 40000;
  prober_.Set(kPbx, r);
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  prober_.Complete();
  auto s = *tracker().Get(kPbx);
  EXPECT_EQ(s.last_latency, absl::Milliseconds(40));
  EXPECT_EQ(s.latency_ewma, absl::Milliseconds(40));
  EXPECT_EQ(s.via_received, "203.0.113.5");
  EXPECT_EQ(s.via_rport, 40000);
}

}  // namespace
}  // namespace sipresolver::health

namespace sipresolver::health {
namespace {

TEST_F(HealthTrackerTest, PinnedEndpointsNeverIdleOut) {
  ASSERT_TRUE(tracker().Pin(kPbx, "itsp.test").ok());
  for (int i = 0; i < 60; ++i) {  // 10 minutes, no Touch.
    timers_.Advance(absl::Seconds(10));
    prober_.Complete();
  }
  EXPECT_TRUE(tracker().Get(kPbx).has_value());
  tracker().Unpin(kPbx);
  for (int i = 0; i < 40; ++i) {
    timers_.Advance(absl::Seconds(10));
    prober_.Complete();
  }
  EXPECT_FALSE(tracker().Get(kPbx).has_value());
}

TEST_F(HealthTrackerTest, ListenerHearsEveryStateChange) {
  std::vector<HealthState> heard;
  tracker().SetListener(
      [&](const EndpointStatus& s) { heard.push_back(s.counters.state); });
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  prober_.Complete();  // UNKNOWN -> HEALTHY.
  prober_.Set(kPbx, Reply(503));
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();  // -> UNHEALTHY.
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();  // No change.
  EXPECT_EQ(heard, (std::vector<HealthState>{HealthState::kHealthy,
                                             HealthState::kUnhealthy}));
}

}  // namespace
}  // namespace sipresolver::health

namespace sipresolver::health {
namespace {

TEST_F(HealthTrackerTest, ProbeSoonProbesAtOnceUnlessInFlight) {
  tracker().Touch(kPbx, "itsp.test");
  timers_.RunDue();
  EXPECT_FALSE(tracker().ProbeSoon(kPbx));  // In flight.
  prober_.Complete();
  EXPECT_TRUE(tracker().ProbeSoon(kPbx));
  timers_.RunDue();  // Not the 10 s interval: now.
  EXPECT_EQ(prober_.requests().size(), 2u);
  EXPECT_FALSE(tracker().ProbeSoon(kOther));  // Not tracked.
}

}  // namespace
}  // namespace sipresolver::health
