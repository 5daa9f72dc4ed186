// ApplyFailStatic as a pure step: rules' decision + evidence + what the
// device registers with -> the published decision.
#include "gtest/gtest.h"
#include "lib/decision/fail_static.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

dns::Candidate Srv(const std::string& address, uint16_t priority) {
  dns::Candidate c;
  c.target = address;
  c.address = address;
  c.port = 5060;
  c.priority = priority;
  return c;
}

sip::Endpoint At(const dns::Candidate& c) {
  return sip::Endpoint{c.address, c.port, Transport::kUdp};
}

class FailStaticTest : public ::testing::Test {
 protected:
  const dns::Candidate a_ = Srv("192.0.2.1", 10);
  const dns::Candidate b_ = Srv("192.0.2.2", 20);
  const dns::Candidate c_ = Srv("192.0.2.3", 20);

  Decision Rules(DecisionState state) const {
    Decision d;
    d.state = state;
    d.candidates = {a_, b_, c_};
    return d;
  }
  std::vector<CandidateHealth> All(HealthState state,
                                   bool confirmed = false) const {
    std::vector<CandidateHealth> health;
    for (const dns::Candidate& c : {a_, b_, c_})
      health.push_back({At(c), state, EndpointEvidence{false, confirmed}});
    return health;
  }
};

TEST_F(FailStaticTest, S7WithoutDeviceConfirmationIsTheDevicesOwnOrder) {
  const Decision d =
      ApplyFailStatic(Rules(DecisionState::kNoWorkingServer),
                      All(HealthState::kUnhealthy), {}, /*secondary=*/true);
  EXPECT_EQ(d.state, DecisionState::kActive);
  EXPECT_EQ(d.assurance, Assurance::kUnconfirmed);
  ASSERT_TRUE(d.primary && d.secondary);
  EXPECT_EQ(d.primary->address, a_.address);
  EXPECT_EQ(d.secondary->address, b_.address);
  EXPECT_EQ(d.next_search, absl::InfiniteFuture());
}

TEST_F(FailStaticTest, KeepsWhatTheDeviceRegistersWith) {
  const Decision d = ApplyFailStatic(
      Rules(DecisionState::kNoWorkingServer), All(HealthState::kUnhealthy),
      Registration{At(b_), At(c_)}, /*secondary=*/true);
  ASSERT_TRUE(d.primary && d.secondary);
  EXPECT_EQ(d.primary->address, b_.address);
  EXPECT_EQ(d.secondary->address, c_.address);
  ASSERT_EQ(d.primary_fallback.size(), 1u);  // a_ ranks higher (S8).
  EXPECT_EQ(d.primary_fallback[0].address, a_.address);
}

TEST_F(FailStaticTest, S7StandsWhenDevicesConfirmTheFailure) {
  const Decision d = ApplyFailStatic(
      Rules(DecisionState::kNoWorkingServer),
      All(HealthState::kUnhealthy, /*confirmed=*/true), {}, true);
  EXPECT_EQ(d.state, DecisionState::kNoWorkingServer);
  EXPECT_FALSE(d.primary);
}

TEST_F(FailStaticTest, ASuspectProbePathMakesEveryDecisionUnconfirmed) {
  Decision rules = Rules(DecisionState::kActive);
  rules.primary = c_;
  rules.assurance = Assurance::kProbes;
  rules.probe_path_suspect = true;
  const Decision d =
      ApplyFailStatic(rules, All(HealthState::kHealthy),
                      Registration{At(b_), std::nullopt}, /*secondary=*/false);
  EXPECT_EQ(d.assurance, Assurance::kUnconfirmed);
  EXPECT_EQ(d.primary->address, b_.address);
  EXPECT_FALSE(d.secondary);  // No secondary registration in the profile.
}

TEST_F(FailStaticTest, ConfirmedRulesPassUnchanged) {
  Decision rules = Rules(DecisionState::kActive);
  rules.primary = b_;
  rules.assurance = Assurance::kProbes;
  const Decision d = ApplyFailStatic(rules, All(HealthState::kHealthy),
                                     Registration{At(a_), std::nullopt}, true);
  EXPECT_TRUE(SameContent(d, rules));
}

}  // namespace
}  // namespace sipresolver::decision
