// Fail static in the decision engine: when the service cannot confirm any
// candidate, or suspects its own probe path, the decision is the device's own
// and never moves an agent off the registration it was last confirmed on.
#include "gtest/gtest.h"
#include "tests/unit/decision_test_fixture.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

class DecisionFailStaticTest : public DecisionEngineFixture {
 protected:
  DecisionFailStaticTest() : DecisionEngineFixture(Redundant(), {kA, kB, kC}) {}
  bool Panic(bool on) { return engine_->SetProbePathSuspect(on, Now()); }
  bool ByDevices(const dns::Candidate& c) {
    return engine_->SetHealth(engine_->EndpointOf(c), HealthState::kHealthy,
                              Now(), EndpointEvidence{true, false});
  }
  bool Unconfirmed() const {
    return D().state == DecisionState::kActive &&
           D().assurance == Assurance::kUnconfirmed;
  }
};

TEST_F(DecisionFailStaticTest,
       S7_AllProbesFailingWithoutDevicesWordIsTheDevicesOwnOrder) {
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  EXPECT_TRUE(Unconfirmed());
  EXPECT_EQ(Primary(), kA.address);  // What the device tries first by itself.
  EXPECT_EQ(D().next_search, absl::InfiniteFuture());
  EXPECT_NE(D().reason.find("fail static"), std::string::npos);
}

TEST_F(DecisionFailStaticTest, S7_StandsWhenDevicesConfirmAFailure) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  devices_confirm_ = true;
  Set(kC, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_EQ(D().assurance, Assurance::kNone);
  EXPECT_NE(D().next_search, absl::InfiniteFuture());
}

TEST_F(DecisionFailStaticTest, S10_UnconfirmedKeepsTheLastConfirmedPrimary) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  ASSERT_EQ(Primary(), kB.address);
  ASSERT_EQ(D().assurance, Assurance::kProbes);
  Set(kB, HealthState::kUnhealthy);
  Set(kC, HealthState::kUnhealthy);
  EXPECT_TRUE(Unconfirmed());
  EXPECT_EQ(Primary(), kB.address);  // Not back to A: never drop what works.
  EXPECT_EQ(D().primary_fallback.size(), 1u);
}

TEST_F(DecisionFailStaticTest,
       S9_UnconfirmedGivesTheSecondaryTheDeviceWouldRegister) {
  Start(Dual());
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  EXPECT_TRUE(Unconfirmed());
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kB.address);
}

TEST_F(DecisionFailStaticTest,
       S6_APrimaryDevicesRegisterWithIsConfirmedByTheirReports) {
  Start();
  ByDevices(kA);
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(D().assurance, Assurance::kDeviceReports);
}

TEST_F(DecisionFailStaticTest, PanicFreezesTheDecisionUntilTheProbesRecover) {
  Start();
  Set(kA, HealthState::kHealthy);
  ASSERT_EQ(Primary(), kA.address);
  EXPECT_TRUE(Panic(true));
  EXPECT_TRUE(Unconfirmed());
  EXPECT_TRUE(D().probe_path_suspect);
  EXPECT_NE(D().reason.find("probe path"), std::string::npos);
  Set(kA, HealthState::kUnhealthy);  // Probe results during panic are suspect.
  Set(kB, HealthState::kHealthy);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_TRUE(Panic(false));  // Back to the rules: A failed, B works (S10/S6).
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(D().assurance, Assurance::kProbes);
  EXPECT_FALSE(D().probe_path_suspect);
}

TEST_F(DecisionFailStaticTest, PanicGivesANewAgentTheFirstCandidate) {
  Start();
  Panic(true);
  EXPECT_TRUE(Unconfirmed());
  EXPECT_EQ(Primary(), kA.address);
}

TEST_F(DecisionFailStaticTest,
       PanicWithDevicesConfirmingTheOutageIsStillNoWorkingServer) {
  Start();
  devices_confirm_ = true;
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  Panic(true);
  EXPECT_EQ(D().state,
            DecisionState::kNoWorkingServer);  // No false fail static.
}

TEST_F(DecisionFailStaticTest,
       S7_UnconfirmedEndsWhenTheNextSearchFindsAWorkingServer) {
  options_.search_break = absl::Seconds(30);
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  ASSERT_TRUE(Unconfirmed());
  Set(kC, HealthState::kHealthy);
  RunFor(absl::Seconds(30));
  EXPECT_EQ(Primary(), kC.address);
  EXPECT_EQ(D().assurance, Assurance::kProbes);
}

TEST_F(DecisionFailStaticTest,
       S4_RedundancyOffKeepsTheFirstCandidateAndSaysItIsUnconfirmed) {
  Profile p = Redundant();
  p.proxy_server_redundancy = false;
  Start(p);
  Set(kA, HealthState::kUnhealthy);
  Panic(true);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(D().assurance, Assurance::kUnconfirmed);
}

}  // namespace
}  // namespace sipresolver::decision
