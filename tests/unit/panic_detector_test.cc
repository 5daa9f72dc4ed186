#include "lib/health/panic_detector.h"

#include <map>
#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace sipresolver::health {
namespace {

sip::Endpoint Ep(int i) {
  return {"192.0.2." + std::to_string(i), 5060, Transport::kUdp};
}

constexpr HealthState kHealthy = HealthState::kHealthy;
constexpr HealthState kUnhealthy = HealthState::kUnhealthy;
constexpr HealthState kUnknown = HealthState::kUnknown;

TEST(PanicDetectorTest, NothingSettledIsAllHealthy) {
  PanicDetector p(0.5, 2);
  p.AddDomain(Ep(1), "a.test");
  EXPECT_EQ(p.healthy_ratio(), 1.0);
  EXPECT_FALSE(p.suspect());
}

TEST(PanicDetectorTest, CrossesTheThresholdBothWays) {
  PanicDetector p(0.5, 2);
  for (int i = 1; i <= 4; ++i) {
    p.AddDomain(Ep(i), "d" + std::to_string(i) + ".test");
    p.SetState(Ep(i), kHealthy);
  }
  p.SetState(Ep(1), kUnhealthy);
  p.SetState(Ep(2), kUnhealthy);
  EXPECT_EQ(p.healthy_ratio(), 0.5);
  EXPECT_FALSE(p.suspect());  // Half healthy is not below one half.
  p.SetState(Ep(3), kUnhealthy);
  EXPECT_EQ(p.healthy_ratio(), 0.25);
  EXPECT_TRUE(p.suspect());
  p.SetState(Ep(3), kHealthy);
  EXPECT_FALSE(p.suspect());
  p.SetState(Ep(4), kUnknown);  // Unsettled: out of the ratio.
  EXPECT_NEAR(p.healthy_ratio(), 1.0 / 3, 1e-9);
  EXPECT_TRUE(p.suspect());
}

TEST(PanicDetectorTest, FailuresOfOneDomainAreNotPanic) {
  PanicDetector p(0.5, 2);
  for (int i = 1; i <= 3; ++i) {
    p.AddDomain(Ep(i), "a.test");
    p.SetState(Ep(i), kUnhealthy);
  }
  p.AddDomain(Ep(4), "b.test");
  p.SetState(Ep(4), kHealthy);
  EXPECT_EQ(p.failing_names(), 1);
  EXPECT_FALSE(p.suspect());
  p.AddDomain(Ep(1), "c.test");  // A second name resolves to a failing one.
  EXPECT_EQ(p.failing_names(), 2);
  EXPECT_TRUE(p.suspect());
}

TEST(PanicDetectorTest, AnIpLiteralIsANameOfItsOwn) {
  PanicDetector p(0.5, 2);
  p.AddDomain(Ep(1), "");
  p.AddDomain(Ep(2), "");
  p.SetState(Ep(1), kUnhealthy);
  EXPECT_EQ(p.failing_names(), 1);
  EXPECT_FALSE(p.suspect());
  p.SetState(Ep(2), kUnhealthy);
  EXPECT_EQ(p.failing_names(), 2);
  EXPECT_TRUE(p.suspect());
}

TEST(PanicDetectorTest, ThresholdZeroTurnsItOff) {
  PanicDetector p(0, 2);
  p.AddDomain(Ep(1), "a.test");
  p.AddDomain(Ep(2), "b.test");
  p.SetState(Ep(1), kUnhealthy);
  p.SetState(Ep(2), kUnhealthy);
  EXPECT_EQ(p.healthy_ratio(), 0.0);
  EXPECT_FALSE(p.suspect());
}

TEST(PanicDetectorTest, EndpointsAddedAndRemovedWhileFailing) {
  PanicDetector p(0.5, 2);
  p.AddDomain(Ep(1), "a.test");
  p.SetState(Ep(1), kHealthy);
  p.SetState(Ep(2), kUnhealthy);  // Added failing, its name comes later.
  EXPECT_EQ(p.failing_names(), 0);
  p.AddDomain(Ep(2), "b.test");
  p.SetState(Ep(3), kUnhealthy);
  p.AddDomain(Ep(3), "c.test");
  EXPECT_EQ(p.unhealthy(), 2);
  EXPECT_TRUE(p.suspect());

  p.Remove(Ep(3));  // Dropped while failing: its name no longer fails.
  EXPECT_EQ(p.unhealthy(), 1);
  EXPECT_EQ(p.failing_names(), 1);
  EXPECT_EQ(p.healthy_ratio(), 0.5);
  EXPECT_FALSE(p.suspect());
  p.Remove(Ep(3));  // Unknown endpoints are ignored.
  p.Remove(Ep(2));
  p.Remove(Ep(1));
  EXPECT_EQ(p.healthy(), 0);
  EXPECT_EQ(p.unhealthy(), 0);
  EXPECT_EQ(p.failing_names(), 0);
  EXPECT_EQ(p.healthy_ratio(), 1.0);
}

TEST(PanicDetectorTest, CountsMatchABruteForceRecountAfterRandomChanges) {
  struct Model {
    HealthState state = kUnknown;
    std::set<std::string> domains;
  };
  std::map<int, Model> model;
  PanicDetector p(0.5, 2);
  std::mt19937 rng(42);
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  const HealthState states[] = {kUnknown, kHealthy, kUnhealthy};
  const std::string domains[] = {"", "a.test", "b.test", "c.test", "d.test"};
  int suspect_steps = 0;
  for (int step = 0; step < 5000; ++step) {
    const int i = pick(20);
    switch (pick(4)) {
      case 0:
      case 1:
        model[i].state = states[pick(3)];
        p.SetState(Ep(i), model[i].state);
        break;
      case 2: {
        const std::string& d = domains[pick(5)];
        model[i].domains.insert(d);
        p.AddDomain(Ep(i), d);
        break;
      }
      case 3:
        model.erase(i);
        p.Remove(Ep(i));
        break;
    }
    int healthy = 0, unhealthy = 0;
    std::set<std::string> failing;
    for (const auto& [j, m] : model) {
      healthy += m.state == kHealthy;
      if (m.state != kUnhealthy) continue;
      ++unhealthy;
      for (const std::string& d : m.domains)
        failing.insert(d.empty() ? Ep(j).address : d);
    }
    ASSERT_EQ(p.healthy(), healthy) << "step " << step;
    ASSERT_EQ(p.unhealthy(), unhealthy) << "step " << step;
    ASSERT_EQ(p.failing_names(), static_cast<int>(failing.size()))
        << "step " << step;
    const double ratio =
        healthy + unhealthy == 0
            ? 1.0
            : static_cast<double>(healthy) / (healthy + unhealthy);
    ASSERT_EQ(p.healthy_ratio(), ratio) << "step " << step;
    ASSERT_EQ(p.suspect(), ratio < 0.5 && failing.size() >= 2)
        << "step " << step;
    suspect_steps += p.suspect();
  }
  EXPECT_GT(suspect_steps, 0);  // The sequence crossed the threshold.
  EXPECT_LT(suspect_steps, 5000);
}

}  // namespace
}  // namespace sipresolver::health
