// Misses (no answer within the endpoint's RTO) and their confirmation by
// follow-up probes, on a simulated clock: one probe per second, RTO floor
// 50 ms, four misses to go down.
#include "gtest/gtest.h"
#include "lib/health/health_tracker.h"
#include "tests/unit/health_tracker_fixture.h"

namespace sipresolver::health {
namespace {

class HealthConfirmTest : public HealthTrackerFixture {
 protected:
  HealthConfirmTest() {
    options_.intervals = {absl::Seconds(1), absl::ZeroDuration(), 0.0};
    options_.thresholds = {2, 4};
    options_.rto = {absl::Milliseconds(50), absl::Seconds(1)};
  }
  // A healthy endpoint whose answers came at once: its RTO is the floor.
  void Healthy() {
    ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
    for (int i = 0; i < 5; ++i) {
      timers_.RunDue();
      ASSERT_EQ(prober_.Complete(), 1);
      timers_.Advance(absl::Seconds(1));
    }
    ASSERT_EQ(State(kPbx), HealthState::kHealthy);
    ASSERT_EQ(tracker().Get(kPbx)->rto, absl::Milliseconds(50));
    ASSERT_EQ(prober_.pending(), 1u);  // The next probe, just sent.
  }
};

TEST_F(HealthConfirmTest, AMissIsConfirmedAtOnceByTheMissingFollowUps) {
  Healthy();
  timers_.Advance(absl::Milliseconds(50));  // The RTO: a miss.
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 1);
  EXPECT_EQ(prober_.pending(), 4u);  // The lost one and three follow-ups.
}

TEST_F(HealthConfirmTest, OneLostPacketNeverMarksDown) {
  Healthy();
  timers_.Advance(absl::Milliseconds(50));
  prober_.CompleteAt(1, Reply(401));  // A follow-up answers.
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 0);
  // The round is over: the other probes' answers change nothing, and the
  // next probe comes one interval later.
  prober_.Complete();
  const size_t sent = prober_.requests().size();
  timers_.Advance(absl::Milliseconds(990));
  EXPECT_EQ(prober_.requests().size(), sent);
  timers_.Advance(absl::Milliseconds(10));
  EXPECT_EQ(prober_.requests().size(), sent + 1);
}

TEST_F(HealthConfirmTest, SilentServerIsDownTwoRtosAfterTheProbe) {
  Healthy();
  const absl::Time probed = clock_.Now();
  timers_.Advance(absl::Milliseconds(99));
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  timers_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 4);
  EXPECT_EQ(tracker().Get(kPbx)->last_change, probed + absl::Milliseconds(100));
  EXPECT_NE(tracker().Get(kPbx)->last_error.find("RTO"), std::string::npos);
}

TEST_F(HealthConfirmTest, ALateAnswerStillCounts) {
  Healthy();
  timers_.Advance(absl::Milliseconds(70));  // A miss at 50 ms.
  prober_.CompleteAt(0, Reply(401));        // The first probe, late.
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 0);
  timers_.Advance(absl::Milliseconds(100));  // Follow-ups' RTO: abandoned.
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_GT(tracker().Get(kPbx)->rto, absl::Milliseconds(50));  // Learned.
}

TEST_F(HealthConfirmTest, AnErrorReplyIsStillDownAtOnce) {
  Healthy();
  prober_.Complete();  // Empty the queue: the next probe gets the 503.
  timers_.Advance(absl::Seconds(1));
  prober_.Set(kPbx, Reply(503));
  ASSERT_EQ(prober_.Complete(), 1);
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
  EXPECT_EQ(prober_.pending(), 0u);  // No follow-up for a definite answer.
}

// A far ITSP answering in 300 ms is never down: its RTO follows it.
TEST_F(HealthConfirmTest, SlowServerIsNeverFalselyDown) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  for (int i = 0; i < 60; ++i) {
    timers_.RunDue();
    ASSERT_EQ(prober_.pending(), 1u) << "probe " << i;
    timers_.Advance(absl::Milliseconds(300));
    prober_.Complete();
    ASSERT_EQ(State(kPbx), HealthState::kHealthy) << "probe " << i;
    timers_.Advance(absl::Seconds(1));  // The interval from the answer.
  }
  EXPECT_GT(tracker().Get(kPbx)->rto, absl::Milliseconds(300));
  EXPECT_EQ(tracker().Get(kPbx)->counters.consecutive_failures, 0);
}

TEST_F(HealthConfirmTest, RecoveryWithinOneIntervalOfTheFirstAnswer) {
  Healthy();
  timers_.Advance(absl::Milliseconds(100));
  ASSERT_EQ(State(kPbx), HealthState::kUnhealthy);
  // Stopped: answers nothing; the wait backs off toward the ceiling.
  timers_.Advance(absl::Seconds(5));
  EXPECT_GT(tracker().Get(kPbx)->rto, absl::Milliseconds(50));
  // It answers again: whatever is in flight, or the next probe, and the
  // confirming one sent at once.
  prober_.Set(kPbx, Reply(401));
  const absl::Time resumed = clock_.Now();
  while (State(kPbx) != HealthState::kHealthy &&
         clock_.Now() - resumed <= absl::Seconds(1)) {
    prober_.Complete();
    timers_.Advance(absl::Milliseconds(1));
  }
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_LE(clock_.Now() - resumed, absl::Seconds(1));
}

// Follow-ups only after a miss: the steady cost is one probe an interval.
TEST_F(HealthConfirmTest, SteadyCostIsOneProbePerInterval) {
  Healthy();
  const size_t sent = prober_.requests().size();
  for (int i = 0; i < 60; ++i) {
    prober_.Complete();
    timers_.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(prober_.requests().size(), sent + 60);
}

TEST_F(HealthConfirmTest, AnUnknownEndpointWaitsTheCeilingForItsFirstAnswer) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  timers_.RunDue();
  timers_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(State(kPbx), HealthState::kUnknown);
  timers_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
}

}  // namespace
}  // namespace sipresolver::health
