// How long the agent waits before reconnecting (client/reconnect_backoff),
// and when it gives up on a silent stream (client/stall_watch).
#include <cstdint>
#include <limits>

#include "client/reconnect_backoff.h"
#include "client/stall_watch.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "tests/support/fake_random.h"

namespace sipresolver::client {
namespace {

constexpr uint64_t kTop = std::numeric_limits<uint64_t>::max();

TEST(AgentBackoffTest, CapDoublesPerFailureUpToTheMaximum) {
  // The random draw at the top of its range shows each cap.
  testing::FakeRandom random({kTop, kTop, kTop, kTop, kTop, kTop, kTop});
  ReconnectBackoff backoff(absl::Milliseconds(500), absl::Seconds(5), random);
  EXPECT_EQ(backoff.Next(false), absl::Milliseconds(500));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(1));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(2));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(4));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(5));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(5));
}

TEST(AgentBackoffTest, FullJitterSpreadsAFleetOverTheWholeRange) {
  // Any point of the range: nothing, a quarter of the first cap, 1 s.
  testing::FakeRandom random({0, 125'000'000, 1'000'000'000});
  ReconnectBackoff backoff(absl::Milliseconds(500), absl::Seconds(30), random);
  EXPECT_EQ(backoff.Next(false), absl::ZeroDuration());
  EXPECT_EQ(backoff.Next(false), absl::Milliseconds(125));
  EXPECT_EQ(backoff.Next(false), absl::Seconds(1));  // Half the third cap.
}

TEST(AgentBackoffTest, ServerAskingToReconnectMeansAtOnceAndCountsNoFailure) {
  testing::FakeRandom random({kTop, kTop});
  ReconnectBackoff backoff(absl::Milliseconds(500), absl::Seconds(30), random);
  EXPECT_EQ(backoff.Next(true), absl::ZeroDuration());
  EXPECT_EQ(backoff.Next(true), absl::ZeroDuration());
  EXPECT_EQ(backoff.Next(false), absl::Milliseconds(500));  // First failure.
}

TEST(AgentBackoffTest, AServedStreamStartsTheNextOutageFresh) {
  testing::FakeRandom random({kTop, kTop, kTop, kTop});
  ReconnectBackoff backoff(absl::Milliseconds(500), absl::Seconds(30), random);
  backoff.Next(false);
  backoff.Next(false);
  EXPECT_EQ(backoff.Next(false), absl::Seconds(2));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(false), absl::Milliseconds(500));
}

TEST(AgentBackoffTest, LongOutagesNeverOverflow) {
  testing::FakeRandom random;
  ReconnectBackoff backoff(absl::Milliseconds(500), absl::Seconds(30), random);
  for (int i = 0; i < 100; ++i) {
    const absl::Duration wait = backoff.Next(false);
    EXPECT_GE(wait, absl::ZeroDuration());
    EXPECT_LE(wait, absl::Seconds(30));
  }
}

TEST(AgentStallWatchTest, SilenceLongerThanTheTimeoutIsAStall) {
  SimulatedClock clock;
  StallWatch stall(clock, absl::Seconds(90));
  clock.Advance(absl::Seconds(90));
  EXPECT_FALSE(stall.Stalled());  // Exactly the timeout: not yet.
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(stall.Stalled());
}

TEST(AgentStallWatchTest, EveryMessageRestartsTheSilence) {
  SimulatedClock clock;
  StallWatch stall(clock, absl::Seconds(90));
  for (int i = 0; i < 10; ++i) {  // Heartbeats every 30 s.
    clock.Advance(absl::Seconds(30));
    stall.Heard();
    EXPECT_FALSE(stall.Stalled());
  }
  clock.Advance(absl::Seconds(91));
  EXPECT_TRUE(stall.Stalled());
}

}  // namespace
}  // namespace sipresolver::client
