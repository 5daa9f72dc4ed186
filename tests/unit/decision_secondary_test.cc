// The decision engine's secondary registration (S9) and promotion (S10) on
// simulated time.
#include <vector>

#include "tests/unit/decision_test_fixture.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

// Two servers at priority 10 (kA, kA2), two at 20 (kB, kB2), one at 30 (kC).
const dns::Candidate kA2 = Srv("192.0.2.11", 10);
const dns::Candidate kB2 = Srv("192.0.2.12", 20);

class DecisionSecondaryTest : public DecisionEngineFixture {
 protected:
  DecisionSecondaryTest()
      : DecisionEngineFixture(Dual(), {kA, kA2, kB, kB2, kC}) {}
  void AllHealthy() {
    // A copy: every Set publishes a new decision, freeing the old list.
    const std::vector<dns::Candidate> all = engine_->decision().candidates;
    for (const auto& c : all) Set(c, HealthState::kHealthy);
  }
};

TEST_F(DecisionSecondaryTest, S9_NoSecondaryWithoutSecondaryRegistration) {
  Profile p = Dual();
  p.secondary_registration = false;
  Start(p);
  AllHealthy();
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), "none");
}

TEST_F(DecisionSecondaryTest, S9_NoEffectUnlessRedundancyIsOn) {
  Profile p = Dual();
  p.proxy_server_redundancy = false;
  Start(p);
  AllHealthy();
  EXPECT_EQ(Secondary(), "none");
  EXPECT_TRUE(D().secondary_fallback.empty());
}

TEST_F(DecisionSecondaryTest, S9_EqualPriorityCandidateIsTheSecondary) {
  Start();
  AllHealthy();
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kA2.address);
  EXPECT_TRUE(D().secondary_fallback.empty());
}

TEST_F(DecisionSecondaryTest,
       S9_SecondaryIsFirstHealthyOfLowerOrEqualPriority) {
  Start();
  Set(kA, HealthState::kHealthy);
  Set(kA2, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  EXPECT_EQ(Secondary(), "none");  // kB2 still unknown.
  Set(kC, HealthState::kHealthy);
  EXPECT_EQ(Secondary(), "none");  // Still waiting for kB2 (S6 manner).
  Set(kB2, HealthState::kHealthy);
  EXPECT_EQ(Secondary(), kB2.address);
  // Strictly higher priority than the secondary, never the primary: kA2
  // only (kB shares the secondary's priority).
  ASSERT_EQ(D().secondary_fallback.size(), 1u);
  EXPECT_EQ(D().secondary_fallback[0].address, kA2.address);
}

TEST_F(DecisionSecondaryTest, S9_NeverOfHigherPriorityThanThePrimary) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kA2, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  Set(kB2, HealthState::kUnhealthy);
  Set(kC, HealthState::kHealthy);
  Set(kA, HealthState::kHealthy);  // Higher than the primary: fallback only.
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
  for (const auto& c : D().secondary_fallback)
    EXPECT_GE(c.priority, kB.priority);
}

TEST_F(DecisionSecondaryTest, S9_SecondaryFallsBackOnlyAtItsCheckInterval) {
  Profile p = Dual();
  p.check_secondary_fallback_interval = absl::Seconds(20);
  Start(p);
  Set(kA, HealthState::kHealthy);
  Set(kA2, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  ASSERT_EQ(Secondary(), kB.address);
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Set(kA2, HealthState::kHealthy));
  RunFor(absl::Seconds(18));
  EXPECT_EQ(Secondary(), kB.address);
  RunFor(absl::Seconds(1));  // 20 s after the secondary was chosen.
  EXPECT_EQ(Secondary(), kA2.address);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_NE(D().reason.find("(S9)"), std::string::npos);
}

TEST_F(DecisionSecondaryTest, S9_SecondaryFailureSearchesANewSecondaryAtOnce) {
  Start();
  AllHealthy();
  ASSERT_EQ(Secondary(), kA2.address);
  EXPECT_TRUE(Set(kA2, HealthState::kUnhealthy));
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kB.address);
  ASSERT_EQ(D().secondary_fallback.size(), 1u);
  EXPECT_EQ(D().secondary_fallback[0].address, kA2.address);
}

TEST_F(DecisionSecondaryTest, S9_NoEligibleCandidateLeft) {
  Start(Dual(), {kA, kB});
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Secondary(), "none");
  Set(kB, HealthState::kHealthy);  // No break for the secondary search.
  EXPECT_EQ(Secondary(), kB.address);
}

TEST_F(DecisionSecondaryTest, S10_PrimaryFailurePromotesTheSecondaryAtOnce) {
  Start();
  AllHealthy();
  EXPECT_TRUE(Set(kA, HealthState::kUnhealthy));
  EXPECT_EQ(Primary(), kA2.address);
  EXPECT_EQ(Secondary(), kB.address);         // New secondary searched.
  EXPECT_TRUE(D().primary_fallback.empty());  // kA has the same priority.
  EXPECT_NE(D().reason.find("(S10)"), std::string::npos);
  Set(kA, HealthState::kHealthy);
  RunFor(absl::Minutes(5));
  EXPECT_EQ(Primary(), kA2.address);  // Equal priority is no reason to move.
}

TEST_F(DecisionSecondaryTest, S10_NoSecondaryWithoutAPrimary) {
  devices_confirm_ = true;
  Start();
  Set(kB, HealthState::kHealthy);  // kA unknown: still searching.
  EXPECT_EQ(D().state, DecisionState::kSearching);
  EXPECT_EQ(Secondary(), "none");
  for (const auto& c : {kA, kA2, kB, kB2, kC}) Set(c, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_EQ(Secondary(), "none");
}

TEST_F(DecisionSecondaryTest, S10_LastServerStandingHasNoSecondary) {
  Start(Dual(), {kA, kB});
  AllHealthy();
  Set(kA, HealthState::kUnhealthy);
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), "none");  // kA is of higher priority: fallback only.
}

TEST_F(DecisionSecondaryTest, S8_PrimaryFallbackKeepsAStillEligibleSecondary) {
  Profile p = Dual();
  p.check_secondary_fallback_interval = absl::Seconds(90);
  Start(p, {kA, kB, kC});
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  ASSERT_EQ(Primary(), kB.address);
  ASSERT_EQ(Secondary(), kC.address);
  Set(kA, HealthState::kHealthy);
  RunFor(absl::Seconds(60));
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kC.address);  // Kept: not dropped needlessly.
  ASSERT_EQ(D().secondary_fallback.size(), 1u);  // The old primary.
  EXPECT_EQ(D().secondary_fallback[0].address, kB.address);
  RunFor(absl::Seconds(30));  // The secondary's own check, at 90 s.
  EXPECT_EQ(Secondary(), kB.address);
}

// A secondary check tick that passed while the secondary had nothing above
// it checked nothing; the list that appears when the primary moves up is
// checked at the next tick of the secondary's own grid.
TEST_F(DecisionSecondaryTest,
       S9_SecondaryChecksKeepTheirGridWhileTheListIsEmpty) {
  Profile p = Dual();
  p.check_primary_fallback_interval = absl::Seconds(100);
  p.check_secondary_fallback_interval = absl::Seconds(60);
  Start(p, {kA, kB, kC});
  const absl::Time t0 = clock_.Now();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  Set(kA, HealthState::kHealthy);
  EXPECT_EQ(engine_->next_wakeup(),
            t0 + absl::Seconds(100));  // Not the idle 60 s.
  RunFor(absl::Seconds(100));
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kC.address);
  EXPECT_EQ(engine_->next_wakeup(), t0 + absl::Seconds(120));
  RunFor(absl::Seconds(19));
  EXPECT_EQ(Secondary(), kC.address);
  RunFor(absl::Seconds(1));
  EXPECT_EQ(Secondary(), kB.address);
}

// The whole failover story: primary dies -> secondary promoted -> new
// secondary; the old primary revives -> fallback after exactly the interval,
// and the secondary's check (due at the same instant) moves it back up too:
// the original arrangement, restored in one publication.
TEST_F(DecisionSecondaryTest, S10_S8_FailoverAndFallbackSequence) {
  Start(Dual(), {kA, kB, kC});
  AllHealthy();
  ASSERT_EQ(Primary(), kA.address);
  ASSERT_EQ(Secondary(), kB.address);
  const uint64_t v = D().version;

  clock_.Advance(absl::Seconds(7));
  Set(kA, HealthState::kUnhealthy);
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
  EXPECT_EQ(D().version, v + 1);  // Promotion and new secondary: one change.
  const absl::Time promoted = clock_.Now();

  clock_.Advance(absl::Seconds(15));
  EXPECT_FALSE(Set(kA, HealthState::kHealthy));
  RunFor(promoted + absl::Seconds(60) - clock_.Now() - absl::Milliseconds(1));
  EXPECT_EQ(Primary(), kB.address);
  RunFor(absl::Milliseconds(1));
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kB.address);
  EXPECT_EQ(D().version, v + 2);
}

}  // namespace
}  // namespace sipresolver::decision
