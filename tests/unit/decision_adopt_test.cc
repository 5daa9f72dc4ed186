// DecisionEngine's registration input on simulated time: a device that
// reconnects (e.g. to another replica) keeps the primary and secondary it
// registers with when they are candidates not known to fail, instead of a fresh
// search (S6, S8, S9 as a device that keeps a working registration).
#include <memory>

#include "gtest/gtest.h"
#include "tests/unit/decision_test_fixture.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

class DecisionAdoptTest : public DecisionEngineFixture {
 protected:
  DecisionAdoptTest() : DecisionEngineFixture(Dual(), {kA, kB, kC}) {}

  // A fresh engine that is told what the device registers with.
  void StartAdopting(const dns::Candidate& primary,
                     const dns::Candidate& secondary) {
    DecisionEngine probe(Dual());  // Only for EndpointOf.
    engine_ = std::make_unique<DecisionEngine>(
        Dual(), EngineOptions{},
        Registration{probe.EndpointOf(primary), probe.EndpointOf(secondary)});
  }
};

TEST_F(DecisionAdoptTest, S8_KeptOnTheAppliedServersUntilTheNextCheck) {
  // The agent failed over to kB (secondary kC) elsewhere; kA works again.
  StartAdopting(kB, kC);
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  EXPECT_TRUE(Dns({kA, kB, kC}));
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
  ASSERT_EQ(D().primary_fallback.size(), 1u);
  EXPECT_EQ(D().primary_fallback[0].address, kA.address);
  RunFor(absl::Seconds(61));  // The S8 check: back to kA.
  EXPECT_EQ(Primary(), kA.address);
}

TEST_F(DecisionAdoptTest, S6_OneDecisionOnceEveryCandidateHasAVerdict) {
  StartAdopting(kB, kC);
  Dns({kA, kB, kC});  // No verdict on anything yet.
  EXPECT_EQ(D().state, DecisionState::kSearching);
  Set(kB, HealthState::kHealthy);
  Set(kA, HealthState::kHealthy);
  EXPECT_EQ(D().state, DecisionState::kSearching);  // kC still unknown.
  const uint64_t v = D().version;
  Set(kC, HealthState::kHealthy);
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
  EXPECT_EQ(D().version, v + 1);  // One change: primary and secondary.
}

TEST_F(DecisionAdoptTest, S6_AFailingOrVanishedPrimaryIsSearchedAsUsual) {
  StartAdopting(kB, kC);
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kUnhealthy);
  Dns({kA, kB, kC});
  EXPECT_EQ(Primary(), kA.address);

  StartAdopting(Srv("192.0.2.9", 10), kC);  // Not a candidate (any more).
  Set(kA, HealthState::kHealthy);
  Dns({kA, kB, kC});
  EXPECT_EQ(Primary(), kA.address);
}

TEST_F(DecisionAdoptTest, S9_AnIneligibleSecondaryIsSearchedAsUsual) {
  // kA above the primary kB cannot be its secondary (S9).
  StartAdopting(kB, kA);
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  Dns({kA, kB, kC});
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
}

TEST_F(DecisionAdoptTest, FailStaticKeepsWhatTheDeviceRegistersWith) {
  // Every probe fails, no device confirms it: the device keeps kB, on
  // which it registers, not the first candidate.
  StartAdopting(kB, kC);
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  Set(kC, HealthState::kUnhealthy);
  Dns({kA, kB, kC});
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(D().assurance, Assurance::kUnconfirmed);
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
}

TEST_F(DecisionAdoptTest, OnlyTheFirstSearchKeepsTheRegistration) {
  StartAdopting(kB, kC);
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  Set(kC, HealthState::kUnhealthy);
  Dns({kA, kB, kC});  // S7, published as fail static on kB.
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kHealthy);
  RunFor(absl::Seconds(31));  // The search after the break (S7).
  EXPECT_EQ(D().assurance, Assurance::kProbes);
  EXPECT_EQ(Primary(), kA.address);  // S6: the first working one.
}

}  // namespace
}  // namespace sipresolver::decision
