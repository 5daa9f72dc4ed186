// The decision engine's primary rules (S1, S4-S8), N2 and versioning, on
// simulated time. Secondary (S9/S10) and DNS changes (S11) have their own
// files.
#include "lib/decision/decision_engine.h"

#include "tests/unit/decision_test_fixture.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

class DecisionEngineTest : public DecisionEngineFixture {
 protected:
  DecisionEngineTest() : DecisionEngineFixture(Redundant(), {kA, kB, kC}) {}
};

TEST_F(DecisionEngineTest,
       S4_RedundancyOffUsesOnlyTheFirstCandidateWhateverItsHealth) {
  Profile p = Redundant();
  p.proxy_server_redundancy = false;
  Start(p);
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Primary(), kA.address);
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  RunFor(absl::Hours(1));
  EXPECT_EQ(Primary(), kA.address);  // No switching.
  EXPECT_FALSE(D().secondary.has_value());
  EXPECT_TRUE(D().primary_fallback.empty());
  EXPECT_TRUE(D().secondary_fallback.empty());
  EXPECT_EQ(engine_->next_wakeup(), absl::InfiniteFuture());
  EXPECT_NE(D().reason.find("X_ProxyServerRedundancy is off"),
            std::string::npos);
  EXPECT_NE(D().reason.find("unhealthy"), std::string::npos);
}

TEST_F(DecisionEngineTest, S4_HealthOfTheOnlyCandidateIsStillReported) {
  Profile p = Redundant();
  p.proxy_server_redundancy = false;
  Start(p);
  const uint64_t v = D().version;
  EXPECT_TRUE(Set(kA, HealthState::kHealthy));
  EXPECT_EQ(D().version, v + 1);
  EXPECT_EQ(D().primary_health, HealthState::kHealthy);
  EXPECT_FALSE(Set(kB, HealthState::kHealthy));  // Not a candidate that counts.
  EXPECT_TRUE(Set(kA, HealthState::kUnhealthy));
  EXPECT_EQ(D().primary_health, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kActive);
}

TEST_F(DecisionEngineTest, S5_IpLiteralTargetMeansNoRedundancy) {
  Profile p = Redundant();
  p.outbound_proxy = "192.0.2.50";
  Start(p, {dns::Candidate{"192.0.2.50", "192.0.2.50", 5060, 0, 0,
                           dns::CandidateSource::kIpLiteral,
                           absl::ZeroDuration()}});
  EXPECT_FALSE(engine_->redundancy_applies());
  EXPECT_EQ(Primary(), "192.0.2.50");
  EXPECT_NE(D().reason.find("(S5)"), std::string::npos);
}

TEST_F(DecisionEngineTest, S1_RegistrationDisabledMeansNoRedundancy) {
  Profile p = Redundant();
  p.registration_enabled = false;
  Start(p);
  Set(kA, HealthState::kUnhealthy);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_NE(D().reason.find("(S1)"), std::string::npos);
}

TEST_F(DecisionEngineTest,
       S6_BeforeAnyCandidateListItIsSearchingAtVersionZero) {
  DecisionEngine engine(Redundant());
  EXPECT_EQ(engine.decision().version, 0u);
  EXPECT_EQ(engine.decision().state, DecisionState::kSearching);
  EXPECT_FALSE(engine.decision().primary.has_value());
  EXPECT_EQ(engine.next_wakeup(), absl::InfiniteFuture());
}

TEST_F(DecisionEngineTest, S6_NothingKnownYetIsSearchingWithoutPrimary) {
  Start();
  EXPECT_EQ(D().version, 1u);
  EXPECT_EQ(D().state, DecisionState::kSearching);
  EXPECT_FALSE(D().primary.has_value());
  EXPECT_EQ(D().candidates.size(), 3u);
}

TEST_F(DecisionEngineTest, S6_FirstHealthyCandidateBecomesPrimary) {
  Start();
  EXPECT_TRUE(Set(kA, HealthState::kHealthy));
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(D().primary_health, HealthState::kHealthy);
  EXPECT_NE(D().reason.find("(S6)"), std::string::npos);
}

TEST_F(DecisionEngineTest, S6_HealthyCandidateBehindAnUnknownOneWaits) {
  Start();
  EXPECT_FALSE(Set(kB, HealthState::kHealthy));  // kA is still being tried.
  EXPECT_EQ(D().state, DecisionState::kSearching);
  EXPECT_TRUE(Set(kA, HealthState::kUnhealthy));  // Now kA is known to fail.
  EXPECT_EQ(Primary(), kB.address);
}

TEST_F(DecisionEngineTest, S6_PrimaryIsFirstHealthyAfterUnhealthyOnes) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kSearching);
  Set(kC, HealthState::kHealthy);
  EXPECT_EQ(Primary(), kC.address);
  ASSERT_EQ(D().primary_fallback.size(), 2u);
  EXPECT_EQ(D().primary_fallback[0].address, kA.address);
  EXPECT_EQ(D().primary_fallback[1].address, kB.address);
}

TEST_F(DecisionEngineTest,
       S7_AllUnhealthyMeansNoWorkingServerUntilTheBreakEnds) {
  devices_confirm_ = true;
  options_.search_break = absl::Seconds(30);
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kUnhealthy);
  Set(kC, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_FALSE(D().primary.has_value());
  EXPECT_EQ(D().next_search, Now() + absl::Seconds(30));
  EXPECT_EQ(engine_->next_wakeup(), Now() + absl::Seconds(30));
  EXPECT_NE(D().reason.find("(S7)"), std::string::npos);
}

TEST_F(DecisionEngineTest, S7_HealthChangesDuringTheBreakDoNotEndItEarly) {
  devices_confirm_ = true;
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  const uint64_t v = D().version;
  clock_.Advance(absl::Seconds(10));
  EXPECT_FALSE(Set(kB, HealthState::kHealthy));
  EXPECT_FALSE(engine_->Advance(Now()));
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_EQ(D().version, v);
  RunFor(
      absl::Seconds(20));  // The break ends; the search uses what it learned.
  EXPECT_EQ(D().state, DecisionState::kActive);
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(D().version, v + 1);
}

TEST_F(DecisionEngineTest,
       S7_SearchAgainAfterTheBreakTakesAnotherBreakWhenAllStillFail) {
  devices_confirm_ = true;
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(engine_->Advance(Now()));
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_EQ(D().next_search, Now() + absl::Seconds(30));
}

TEST_F(DecisionEngineTest,
       S7_SearchAfterTheBreakStillWaitsForUnknownCandidates) {
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  Set(kA, HealthState::kUnknown);  // E.g. the tracker forgot it.
  RunFor(absl::Seconds(30));
  EXPECT_EQ(D().state, DecisionState::kSearching);
  Set(kA, HealthState::kHealthy);
  EXPECT_EQ(Primary(), kA.address);
}

TEST_F(DecisionEngineTest, S7_EmptyCandidateListIsNoWorkingServer) {
  Start(Redundant(), {});
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_NE(D().reason.find("no candidates"), std::string::npos);
}

TEST_F(DecisionEngineTest, S8_FallbackListHoldsHigherPriorityCandidates) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  ASSERT_EQ(Primary(), kB.address);
  ASSERT_EQ(D().primary_fallback.size(), 1u);
  EXPECT_EQ(D().primary_fallback[0].address, kA.address);
}

TEST_F(DecisionEngineTest, S8_FallsBackToHigherPriorityOnlyAtTheCheckInterval) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  const absl::Time chosen = Now();
  EXPECT_EQ(engine_->next_wakeup(), chosen + absl::Seconds(60));
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(Set(kA, HealthState::kHealthy));  // No immediate switch.
  RunFor(absl::Seconds(54));
  EXPECT_EQ(Primary(), kB.address);  // 59 s: not yet.
  RunFor(absl::Seconds(1));
  EXPECT_EQ(Primary(), kA.address);  // Exactly at 60 s.
  EXPECT_TRUE(D().primary_fallback.empty());
  EXPECT_NE(D().reason.find("(S8)"), std::string::npos);
}

TEST_F(DecisionEngineTest,
       S8_FlappingHigherPriorityServerDoesNotSwitchBetweenChecks) {
  Profile p = Redundant();
  p.check_primary_fallback_interval = absl::Seconds(30);
  Start(p);
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  const uint64_t v = D().version;
  // kA flaps every 10 s, but is down at each 30 s check.
  for (int i = 0; i < 9; ++i) {
    clock_.Advance(absl::Seconds(5));
    Set(kA, HealthState::kHealthy);
    clock_.Advance(absl::Seconds(5));
    Set(kA, HealthState::kUnhealthy);
    engine_->Advance(Now());
  }
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(D().version, v);  // Not a single publication for the fleet.
}

TEST_F(DecisionEngineTest,
       S8_CheckWithNothingHealthyKeepsThePrimaryAndChecksAgain) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  RunFor(absl::Seconds(60));
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(engine_->next_wakeup(), Now() + absl::Seconds(60));
}

TEST_F(DecisionEngineTest, S8_NoWakeupWithoutAFallbackList) {
  Start();
  Set(kA, HealthState::kHealthy);
  EXPECT_TRUE(D().primary_fallback.empty());
  EXPECT_EQ(engine_->next_wakeup(), absl::InfiniteFuture());
}

TEST_F(DecisionEngineTest,
       PrimaryFailureWithoutSecondarySearchesFromTheTopAtOnce) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  clock_.Advance(absl::Seconds(10));
  Set(kA, HealthState::kHealthy);  // Recovered, but no check yet.
  EXPECT_TRUE(Set(kB, HealthState::kUnhealthy));
  EXPECT_EQ(Primary(), kA.address);  // A fresh search starts at the top.
  EXPECT_NE(D().reason.find("searching again from the top"), std::string::npos);
}

TEST_F(DecisionEngineTest, PrimaryFailureWithAllOthersDownIsNoWorkingServer) {
  devices_confirm_ = true;
  Start();
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kUnhealthy);
  Set(kC, HealthState::kUnhealthy);
  Set(kA, HealthState::kUnhealthy);
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_EQ(D().next_search, Now() + absl::Seconds(30));
}

TEST_F(DecisionEngineTest, N2_KeepAliveGoesToTheConfiguredServer) {
  Profile p = Redundant();
  p.keep_alive_enable = true;
  p.keep_alive_server = "STUN.Example.com.";
  Start(p);
  ASSERT_TRUE(D().keep_alive.has_value());
  EXPECT_EQ(D().keep_alive->host, "stun.example.com");
  EXPECT_EQ(D().keep_alive->address, "");  // A name: the device resolves it.
  EXPECT_EQ(D().keep_alive->port, 5060);
}

TEST_F(DecisionEngineTest,
       N2_ConfiguredIpKeepAliveServerHasItsAddressAndTlsDefaultPort) {
  Profile p = Redundant();
  p.transport = Transport::kTls;
  p.keep_alive_enable = true;
  p.keep_alive_server = "198.51.100.7";
  Start(p);
  ASSERT_TRUE(D().keep_alive.has_value());
  EXPECT_EQ(D().keep_alive->address, "198.51.100.7");
  EXPECT_EQ(D().keep_alive->port, 5061);
  p.keep_alive_port = 3478;
  Start(p);
  EXPECT_EQ(D().keep_alive->port, 3478);
}

TEST_F(DecisionEngineTest, N2_WithoutAServerKeepAliveFollowsThePrimary) {
  Profile p = Redundant();
  p.keep_alive_enable = true;
  Start(p);
  EXPECT_FALSE(D().keep_alive.has_value());  // No primary yet.
  Set(kA, HealthState::kHealthy);
  ASSERT_TRUE(D().keep_alive.has_value());
  EXPECT_EQ(D().keep_alive->address, kA.address);
  EXPECT_EQ(D().keep_alive->host, kA.target);
  EXPECT_EQ(D().keep_alive->port, kA.port);
  Set(kB, HealthState::kHealthy);
  Set(kA, HealthState::kUnhealthy);
  EXPECT_EQ(D().keep_alive->address, kB.address);
}

TEST_F(DecisionEngineTest, N2_NoKeepAliveWhenDisabled) {
  Profile p = Redundant();
  p.keep_alive_server = "stun.example.com";
  Start(p);
  Set(kA, HealthState::kHealthy);
  EXPECT_FALSE(D().keep_alive.has_value());
}

TEST_F(DecisionEngineTest, VersionIncrementsByOneOnlyOnChangeWithAReason) {
  Start();
  EXPECT_EQ(D().version, 1u);
  EXPECT_FALSE(Set(kB, HealthState::kHealthy));  // Search still waits on kA.
  EXPECT_FALSE(Set(kB, HealthState::kHealthy));  // Same state again.
  EXPECT_FALSE(engine_->Advance(Now()));
  EXPECT_FALSE(engine_->SetCandidates({kA, kB, kC}, Now()));
  EXPECT_EQ(D().version, 1u);
  EXPECT_TRUE(Set(kA, HealthState::kUnhealthy));
  EXPECT_EQ(D().version, 2u);
  EXPECT_FALSE(D().reason.empty());
}

TEST_F(DecisionEngineTest, SameInputsGiveTheSameDecisions) {
  auto run = [](DecisionEngine& e, absl::Time t0) {
    std::vector<std::string> out;
    e.SetCandidates({kA, kB, kC}, t0);
    e.SetHealth({kA.address, 5060, Transport::kUdp}, HealthState::kUnhealthy,
                t0);
    e.SetHealth({kB.address, 5060, Transport::kUdp}, HealthState::kHealthy, t0);
    e.SetHealth({kA.address, 5060, Transport::kUdp}, HealthState::kHealthy,
                t0 + absl::Seconds(1));
    e.Advance(t0 + absl::Seconds(60));
    out.push_back(e.decision().reason);
    out.push_back(std::to_string(e.decision().version));
    return out;
  };
  DecisionEngine a(Redundant()), b(Redundant());
  EXPECT_EQ(run(a, absl::UnixEpoch()), run(b, absl::UnixEpoch()));
  EXPECT_EQ(a.decision().primary->address, kA.address);
}

}  // namespace
}  // namespace sipresolver::decision
