#include "lib/health/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"

namespace sipresolver::health {
namespace {

int AcquireAll(RateLimiter& limiter, absl::Time now, int at_most = 1000) {
  int granted = 0;
  while (granted < at_most && limiter.TryAcquire(now)) ++granted;
  return granted;
}

TEST(RateLimiterTest, StartsFullAndGrantsTheBurstAtOnce) {
  SimulatedClock clock;
  RateLimiter limiter(10, 5, clock.Now());
  EXPECT_EQ(AcquireAll(limiter, clock.Now()), 5);
  EXPECT_FALSE(limiter.TryAcquire(clock.Now()));
}

TEST(RateLimiterTest, RefillsOverSimulatedTime) {
  SimulatedClock clock;
  RateLimiter limiter(10, 5, clock.Now());  // One token per 100ms.
  ASSERT_EQ(AcquireAll(limiter, clock.Now()), 5);

  clock.Advance(absl::Milliseconds(99));
  EXPECT_FALSE(limiter.TryAcquire(clock.Now()));
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter.TryAcquire(clock.Now()));
  EXPECT_FALSE(limiter.TryAcquire(clock.Now()));

  // Partial refills add up: 250ms is two tokens, and the extra 50ms counts
  // toward the third.
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(AcquireAll(limiter, clock.Now()), 2);
  clock.Advance(absl::Milliseconds(50));
  EXPECT_TRUE(limiter.TryAcquire(clock.Now()));
}

TEST(RateLimiterTest, LongIdleRefillsOnlyUpToTheBurst) {
  SimulatedClock clock;
  RateLimiter limiter(10, 5, clock.Now());
  ASSERT_EQ(AcquireAll(limiter, clock.Now()), 5);
  clock.Advance(absl::Hours(24));
  EXPECT_EQ(AcquireAll(limiter, clock.Now()), 5);
}

TEST(RateLimiterTest, TimeUntilAvailable) {
  SimulatedClock clock;
  RateLimiter limiter(4, 2, clock.Now());  // One token per 250ms.
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::ZeroDuration());
  ASSERT_TRUE(limiter.TryAcquire(clock.Now()));
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::ZeroDuration());
  ASSERT_TRUE(limiter.TryAcquire(clock.Now()));
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::Milliseconds(250));

  clock.Advance(absl::Milliseconds(100));
  const absl::Duration wait = limiter.TimeUntilAvailable(clock.Now());
  EXPECT_EQ(wait, absl::Milliseconds(150));
  // Exactly at the promised time, not a nanosecond before.
  EXPECT_FALSE(limiter.TryAcquire(clock.Now() + wait - absl::Nanoseconds(1)));
  clock.Advance(wait);
  EXPECT_TRUE(limiter.TryAcquire(clock.Now()));
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::Milliseconds(250));
}

TEST(RateLimiterTest, FractionalRateAndBurst) {
  SimulatedClock clock;
  RateLimiter limiter(0.5, 1.5, clock.Now());  // One token per 2s.
  EXPECT_TRUE(limiter.TryAcquire(clock.Now()));
  EXPECT_FALSE(limiter.TryAcquire(clock.Now()));
  // Half a token was left; one more needs another half interval.
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::Seconds(1));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(limiter.TryAcquire(clock.Now()));
  // Empty now: a whole token takes a whole interval.
  EXPECT_EQ(limiter.TimeUntilAvailable(clock.Now()), absl::Seconds(2));
}

// Over every window [t_i, t_j] of grants i..j: (j - i + 1) <= burst + rate *
// (t_j - t_i). Equivalently, f(k) = k - rate * t_k never rises more than
// burst - 1 above its running minimum.
void ExpectNeverAboveRate(double rate, double burst, absl::Duration run,
                          uint64_t seed) {
  SimulatedClock clock;
  const absl::Time start = clock.Now();
  RateLimiter limiter(rate, burst, start);
  uint64_t lcg = seed;
  int64_t granted = 0;
  double min_f = std::numeric_limits<double>::infinity();
  while (clock.Now() - start < run) {
    if (limiter.TryAcquire(clock.Now())) {
      const double f =
          granted - rate * absl::ToDoubleSeconds(clock.Now() - start);
      min_f = std::min(min_f, f);
      ASSERT_LE(f - min_f, burst - 1 + 1e-6)
          << "grant " << granted << " at " << clock.Now() - start;
      ++granted;
    }
    // Irregular steps from 0 to ~1.5 intervals, including bursts of calls
    // at the same instant.
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    const double step = static_cast<double>(lcg >> 40) / (1 << 24) * 1.5 / rate;
    clock.Advance(absl::Seconds((lcg >> 20) % 4 == 0 ? 0.0 : step));
  }
  const double seconds = absl::ToDoubleSeconds(run);
  EXPECT_LE(granted, burst + rate * seconds);
  // Not trivially true by denying: eager callers get most of the rate (with
  // burst 1 a late call's lateness is lost, hence not all of it).
  EXPECT_GE(granted, 0.5 * rate * seconds);
}

TEST(RateLimiterTest, NeverExceedsTheRateOverALongRun) {
  ExpectNeverAboveRate(/*rate=*/7, /*burst=*/3, absl::Hours(2), /*seed=*/1);
  ExpectNeverAboveRate(/*rate=*/1000, /*burst=*/1, absl::Minutes(2),
                       /*seed=*/2);
  ExpectNeverAboveRate(/*rate=*/0.3, /*burst=*/10, absl::Hours(24), /*seed=*/3);
  ExpectNeverAboveRate(/*rate=*/3, /*burst=*/2.5, absl::Hours(2), /*seed=*/4);
}

TEST(RateLimiterTest, PollingAtTimeUntilAvailableGetsExactlyTheRate) {
  SimulatedClock clock;
  const absl::Time start = clock.Now();
  RateLimiter limiter(50, 10, start);
  int granted = 0;
  while (clock.Now() - start <= absl::Minutes(10)) {
    if (limiter.TryAcquire(clock.Now())) {
      ++granted;
    } else {
      clock.Advance(limiter.TimeUntilAvailable(clock.Now()));
    }
  }
  // Burst plus one per 20ms over [0, 600s].
  EXPECT_EQ(granted, 10 + 50 * 600);
}

TEST(RateLimiterTest, TimeGoingBackwardsNeverGrantsMore) {
  SimulatedClock clock;
  RateLimiter limiter(1, 2, clock.Now());
  clock.Advance(absl::Seconds(10));
  ASSERT_EQ(AcquireAll(limiter, clock.Now()), 2);
  EXPECT_EQ(AcquireAll(limiter, clock.Now() - absl::Seconds(5)), 0);
  EXPECT_EQ(AcquireAll(limiter, clock.Now() + absl::Seconds(1)), 1);
}

TEST(RateLimiterTest, CreateRejectsBadArguments) {
  const absl::Time now = absl::UnixEpoch();
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  for (double rate : {0.0, -1.0, nan, inf}) {
    absl::StatusOr<RateLimiter> limiter = RateLimiter::Create(rate, 5, now);
    EXPECT_EQ(limiter.status().code(), absl::StatusCode::kInvalidArgument)
        << rate;
  }
  for (double burst : {0.0, 0.5, -1.0, nan, inf}) {
    absl::StatusOr<RateLimiter> limiter = RateLimiter::Create(10, burst, now);
    EXPECT_EQ(limiter.status().code(), absl::StatusCode::kInvalidArgument)
        << burst;
  }
  EXPECT_EQ(RateLimiter::Create(0, 5, now).status().message(),
            "rate limit: per_second must be a positive number, got 0");
  EXPECT_EQ(RateLimiter::Create(10, 0.5, now).status().message(),
            "rate limit: burst must be at least 1, got 0.5");
  ASSERT_TRUE(RateLimiter::Create(10, 5, now).ok());
}

TEST(RateLimiterTest, ConstructorClampsBadArgumentsToTheSafeSide) {
  SimulatedClock clock;
  RateLimiter no_rate(std::nan(""), 0, clock.Now());
  EXPECT_EQ(no_rate.burst(), 1);
  EXPECT_TRUE(no_rate.TryAcquire(clock.Now()));
  clock.Advance(absl::Hours(24 * 365));
  EXPECT_FALSE(no_rate.TryAcquire(clock.Now()));

  RateLimiter negative(-5, 3, clock.Now());
  EXPECT_EQ(AcquireAll(negative, clock.Now()), 3);
  clock.Advance(absl::Hours(24 * 365));
  EXPECT_EQ(AcquireAll(negative, clock.Now()), 0);
}

}  // namespace
}  // namespace sipresolver::health
