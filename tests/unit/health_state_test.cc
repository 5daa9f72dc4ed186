// What a probe result means (S6) and how thresholds and intervals move.
#include "lib/health/health_state.h"

#include "gtest/gtest.h"
#include "tests/support/fake_prober.h"
#include "tests/support/fake_random.h"

namespace sipresolver::health {
namespace {

using testing::Reply;
using testing::Timeout;

TEST(HealthStateTest, S6_ChallengeWithoutCredentialsMeansRegistrationsWork) {
  AcceptedCodes accepted;
  EXPECT_EQ(Classify(Reply(401), false, accepted), Verdict::kSuccess);
  EXPECT_EQ(Classify(Reply(407), false, accepted), Verdict::kSuccess);
  EXPECT_EQ(Classify(Reply(200), false, accepted), Verdict::kSuccess);
}

TEST(HealthStateTest, S6_WithCredentialsOnlyACompletedRegistrationCounts) {
  AcceptedCodes accepted;
  EXPECT_EQ(Classify(Reply(200), true, accepted), Verdict::kSuccess);
  EXPECT_EQ(Classify(Reply(401), true, accepted), Verdict::kDefiniteFailure);
  EXPECT_EQ(Classify(Reply(403), true, accepted), Verdict::kDefiniteFailure);
}

TEST(HealthStateTest, ErrorRepliesAndNetworkErrorsAreDefinite) {
  AcceptedCodes accepted;
  EXPECT_EQ(Classify(Reply(503), false, accepted), Verdict::kDefiniteFailure);
  EXPECT_EQ(Classify(Reply(603), false, accepted), Verdict::kDefiniteFailure);
  sip::ProbeResult refused;
  refused.outcome = sip::ProbeResult::Outcome::kNetworkError;
  EXPECT_EQ(Classify(refused, false, accepted), Verdict::kDefiniteFailure);
  EXPECT_EQ(Classify(Timeout(), false, accepted), Verdict::kFailure);
}

TEST(HealthStateTest, AcceptedCodesAreConfigurable) {
  AcceptedCodes accepted;
  accepted.without_credentials = {404};
  EXPECT_EQ(Classify(Reply(404), false, accepted), Verdict::kSuccess);
  EXPECT_EQ(Classify(Reply(401), false, accepted), Verdict::kDefiniteFailure);
}

TEST(HealthStateTest, FirstResultDecidesFromUnknown) {
  Thresholds t{3, 3};
  EXPECT_EQ(Apply({}, Verdict::kSuccess, t).state, HealthState::kHealthy);
  EXPECT_EQ(Apply({}, Verdict::kFailure, t).state, HealthState::kUnhealthy);
}

TEST(HealthStateTest, TimeoutsCountTowardTheUnhealthyThreshold) {
  Thresholds t{2, 3};
  Counters c{HealthState::kHealthy, 5, 0};
  c = Apply(c, Verdict::kFailure, t);
  c = Apply(c, Verdict::kFailure, t);
  EXPECT_EQ(c.state, HealthState::kHealthy);
  EXPECT_EQ(c.consecutive_failures, 2);
  EXPECT_EQ(c.consecutive_successes, 0);
  c = Apply(c, Verdict::kFailure, t);
  EXPECT_EQ(c.state, HealthState::kUnhealthy);
}

TEST(HealthStateTest, DefiniteFailureMarksDownAtOnce) {
  Counters c{HealthState::kHealthy, 5, 0};
  EXPECT_EQ(Apply(c, Verdict::kDefiniteFailure, Thresholds{2, 3}).state,
            HealthState::kUnhealthy);
}

TEST(HealthStateTest, CountersResetOnTheOppositeResult) {
  Thresholds t{2, 2};
  Counters c{HealthState::kHealthy, 0, 1};
  c = Apply(c, Verdict::kSuccess, t);  // A success between two timeouts.
  c = Apply(c, Verdict::kFailure, t);
  EXPECT_EQ(c.state, HealthState::kHealthy);
  c = Apply({HealthState::kUnhealthy, 1, 0}, Verdict::kFailure, t);
  EXPECT_EQ(c.consecutive_successes, 0);
  c = Apply(c, Verdict::kSuccess, t);
  EXPECT_EQ(c.state, HealthState::kUnhealthy);
  c = Apply(c, Verdict::kSuccess, t);
  EXPECT_EQ(c.state, HealthState::kHealthy);
}

TEST(HealthStateTest, EdgeIntervalWhileAChangeIsPending) {
  Intervals i{absl::Seconds(10), absl::Seconds(1), 0.0};
  testing::FakeRandom random;
  EXPECT_EQ(NextProbeDelay({HealthState::kHealthy, 3, 0}, i, random),
            absl::Seconds(10));
  EXPECT_EQ(NextProbeDelay({HealthState::kHealthy, 0, 1}, i, random),
            absl::Seconds(1));
  EXPECT_EQ(NextProbeDelay({HealthState::kUnhealthy, 1, 0}, i, random),
            absl::Seconds(1));
  EXPECT_EQ(NextProbeDelay({HealthState::kUnhealthy, 0, 4}, i, random),
            absl::Seconds(10));
  EXPECT_EQ(NextProbeDelay({HealthState::kUnknown, 0, 0}, i, random),
            absl::Seconds(1));
}

TEST(HealthStateTest, JitterStaysWithinBounds) {
  Intervals i{absl::Seconds(10), absl::Seconds(1), 0.2};
  testing::FakeRandom low({0}), high({1000}), mid({500});
  const Counters stable{HealthState::kHealthy, 3, 0};
  EXPECT_EQ(NextProbeDelay(stable, i, low), absl::Seconds(8));
  EXPECT_EQ(NextProbeDelay(stable, i, high), absl::Seconds(12));
  EXPECT_EQ(NextProbeDelay(stable, i, mid), absl::Seconds(10));
}

}  // namespace
}  // namespace sipresolver::health
