// The decision engine when DNS renewals change the candidate list (S11), on
// simulated time.
#include "tests/unit/decision_test_fixture.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

const dns::Candidate kD = Srv("192.0.2.4", 5);

class DecisionCandidatesTest : public DecisionEngineFixture {
 protected:
  DecisionCandidatesTest() : DecisionEngineFixture(Dual(), {kA, kB, kC}) {}
};

TEST_F(DecisionCandidatesTest, S11_HealthLearnedBeforeTheListIsUsed) {
  engine_ = std::make_unique<DecisionEngine>(Dual(), EngineOptions{});
  EXPECT_FALSE(Set(kA, HealthState::kHealthy));  // Nothing to decide yet.
  EXPECT_TRUE(Dns({kA, kB}));
  EXPECT_EQ(Primary(), kA.address);
}

TEST_F(DecisionCandidatesTest, S11_IdenticalListIsNoChange) {
  Start();
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kHealthy);
  const uint64_t v = D().version;
  EXPECT_FALSE(Dns({kA, kB, kC}));
  EXPECT_EQ(D().version, v);
}

TEST_F(DecisionCandidatesTest,
       S11_KeepsAStillPresentWorkingPrimaryAndSecondary) {
  Start();
  Set(kA, HealthState::kUnhealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  ASSERT_EQ(Primary(), kB.address);
  ASSERT_EQ(Secondary(), kC.address);
  // kA's record moved below kB; the device would not re-register anywhere.
  const dns::Candidate a_low = Srv("192.0.2.1", 25);
  Set(a_low, HealthState::kHealthy);
  EXPECT_TRUE(Dns({kB, a_low, kC}));
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);  // Kept though a_low now precedes it.
  EXPECT_TRUE(D().primary_fallback.empty());
  ASSERT_EQ(D().secondary_fallback.size(), 1u);
  EXPECT_EQ(D().secondary_fallback[0].address, a_low.address);
  EXPECT_NE(D().reason.find("(S11)"), std::string::npos);
}

TEST_F(DecisionCandidatesTest,
       S11_NewHigherPriorityServerAppearsInTheFallbackList) {
  Start();
  Set(kA, HealthState::kHealthy);
  const absl::Time chosen = clock_.Now();
  ASSERT_EQ(Primary(), kA.address);
  EXPECT_EQ(engine_->next_wakeup(),
            absl::InfiniteFuture());  // Nothing above kA.
  clock_.Advance(absl::Seconds(200));
  Set(kD, HealthState::kHealthy);
  EXPECT_TRUE(Dns({kD, kA, kB, kC}));
  EXPECT_EQ(Primary(), kA.address);  // Not at once (S8).
  ASSERT_EQ(D().primary_fallback.size(), 1u);
  EXPECT_EQ(D().primary_fallback[0].address, kD.address);
  // Checked at the next tick of the 60 s grid that started when kA was
  // chosen, as the device's timer would: 240 s, not 200 + 60 s.
  EXPECT_EQ(engine_->next_wakeup(), chosen + absl::Seconds(240));
  RunFor(absl::Seconds(39));
  EXPECT_EQ(Primary(), kA.address);
  RunFor(absl::Seconds(1));
  EXPECT_EQ(Primary(), kD.address);
  EXPECT_EQ(Secondary(), kA.address);  // S9 search: kA is next in order.
}

TEST_F(DecisionCandidatesTest, S11_RemovedPrimaryPromotesTheSecondary) {
  Start();
  Set(kA, HealthState::kHealthy);
  Set(kB, HealthState::kHealthy);
  Set(kC, HealthState::kHealthy);
  ASSERT_EQ(Secondary(), kB.address);
  EXPECT_TRUE(Dns({kB, kC}));
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(Secondary(), kC.address);
  EXPECT_NE(D().reason.find("no longer in DNS"), std::string::npos);
  EXPECT_NE(D().reason.find("(S10)"), std::string::npos);
}

TEST_F(DecisionCandidatesTest,
       S11_RemovedPrimaryWithoutSecondarySearchesAgain) {
  Profile p = Dual();
  p.secondary_registration = false;
  Start(p);
  Set(kA, HealthState::kHealthy);
  EXPECT_TRUE(Dns({kB, kC}));
  EXPECT_EQ(D().state, DecisionState::kSearching);  // kB not known yet.
  Set(kB, HealthState::kHealthy);
  EXPECT_EQ(Primary(), kB.address);
}

TEST_F(DecisionCandidatesTest, S11_RemovedSecondaryIsReplaced) {
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kHealthy);
  ASSERT_EQ(Secondary(), kB.address);
  EXPECT_TRUE(Dns({kA, kC}));
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_EQ(Secondary(), kC.address);
}

TEST_F(DecisionCandidatesTest,
       S11_SecondaryAboveTheNewPrimaryPriorityIsDropped) {
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kHealthy);
  ASSERT_EQ(Secondary(), kB.address);
  const dns::Candidate a_low = Srv("192.0.2.1", 25);  // The primary moved down.
  EXPECT_TRUE(Dns({kB, a_low, kC}));
  EXPECT_EQ(Primary(), a_low.address);  // Kept: still present and working.
  EXPECT_EQ(D().primary->priority, 25);
  EXPECT_EQ(Secondary(), kC.address);  // kB is now above the primary.
  ASSERT_EQ(D().primary_fallback.size(), 1u);
  EXPECT_EQ(D().primary_fallback[0].address, kB.address);
}

TEST_F(DecisionCandidatesTest, S11_CandidateFieldsRefresh) {
  Start();
  Set(kA, HealthState::kHealthy);
  dns::Candidate a2 = kA;
  a2.ttl = absl::Seconds(120);
  a2.weight = 50;
  const uint64_t v = D().version;
  EXPECT_TRUE(Dns({a2, kB, kC}));
  EXPECT_EQ(D().version, v + 1);
  EXPECT_EQ(D().primary->ttl, absl::Seconds(120));
  EXPECT_EQ(D().primary->weight, 50);
  EXPECT_EQ(D().candidates[0].ttl, absl::Seconds(120));
}

TEST_F(DecisionCandidatesTest, S11_ATtlAloneIsNoChange) {
  // Behind a caching resolver every renewal has a new remaining TTL.
  Start();
  Set(kA, HealthState::kHealthy);
  dns::Candidate a2 = kA;
  a2.ttl = absl::Seconds(17);
  const uint64_t v = D().version;
  EXPECT_FALSE(Dns({a2, kB, kC}));
  EXPECT_EQ(D().version, v);
}

TEST_F(DecisionCandidatesTest, S11_NewListDuringTheBreakWaitsForTheNextSearch) {
  devices_confirm_ = true;
  Start();
  for (const auto& c : {kA, kB, kC}) Set(c, HealthState::kUnhealthy);
  ASSERT_EQ(D().state, DecisionState::kNoWorkingServer);
  const absl::Time next = D().next_search;
  clock_.Advance(absl::Seconds(5));
  Set(kD, HealthState::kHealthy);
  EXPECT_TRUE(Dns({kD, kA, kB, kC}));  // The list is shown...
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);  // ...the break holds.
  EXPECT_EQ(D().next_search, next);
  RunFor(next - clock_.Now());
  EXPECT_EQ(Primary(), kD.address);
}

TEST_F(DecisionCandidatesTest, S11_SearchingRestartsOnTheNewList) {
  Start();
  Set(kB, HealthState::kHealthy);
  ASSERT_EQ(D().state, DecisionState::kSearching);  // Waiting for kA.
  EXPECT_TRUE(Dns({kB, kC}));
  EXPECT_EQ(Primary(), kB.address);
}

TEST_F(DecisionCandidatesTest, S11_EmptyListDropsThePrimary) {
  Start();
  Set(kA, HealthState::kHealthy);
  EXPECT_TRUE(Dns({}));
  EXPECT_EQ(D().state, DecisionState::kNoWorkingServer);
  EXPECT_FALSE(D().primary.has_value());
  EXPECT_TRUE(D().candidates.empty());
}

TEST_F(DecisionCandidatesTest, S11_RedundancyOffFollowsTheNewFirstCandidate) {
  Profile p = Dual();
  p.proxy_server_redundancy = false;
  Start(p, {kA});
  EXPECT_EQ(Primary(), kA.address);
  EXPECT_TRUE(Dns({kB}));
  EXPECT_EQ(Primary(), kB.address);
  EXPECT_EQ(D().state, DecisionState::kActive);
}

}  // namespace
}  // namespace sipresolver::decision
