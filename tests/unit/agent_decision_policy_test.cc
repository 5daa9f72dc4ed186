// What the agent hands on: a new stream's SEARCHING hidden, a SEARCHING
// after a real decision passed, unconfirmed decisions never moving the agent
// off the primary it holds (fail static).
#include "client/decision_policy.h"
#include "gtest/gtest.h"

namespace sipresolver::client {
namespace {

v1::Candidate Server(uint32_t port, uint32_t priority) {
  v1::Candidate c;
  c.set_address("192.0.2.1");
  c.set_port(port);
  c.set_priority(priority);
  return c;
}

v1::Decision Active(uint32_t primary, v1::Assurance assurance,
                    std::optional<uint32_t> secondary = std::nullopt) {
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(assurance);
  for (uint32_t port : {5061u, 5062u, 5063u})
    *d.add_candidates() = Server(port, port);
  *d.mutable_primary() = Server(primary, primary);
  if (secondary) *d.mutable_secondary() = Server(*secondary, *secondary);
  return d;
}

v1::Decision Searching() {
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_SEARCHING);
  return d;
}

TEST(DecisionPolicyTest, ANewStreamsSearchingIsHiddenWhileADecisionIsHeld) {
  DecisionPolicy policy;
  const v1::Decision held = Active(5061, v1::ASSURANCE_PROBES);
  policy.OnNewStream();  // A restarted server, or another replica.
  EXPECT_FALSE(policy.Accept(held, Searching()).has_value());
  EXPECT_TRUE(
      policy.Accept(std::nullopt, Searching()).has_value());  // Nothing held.
}

TEST(DecisionPolicyTest, S6_SearchingAfterADecisionOnTheSameStreamIsHandedOn) {
  DecisionPolicy policy;
  policy.OnNewStream();
  auto first = policy.Accept(std::nullopt, Active(5061, v1::ASSURANCE_PROBES));
  ASSERT_TRUE(first.has_value());
  // The primary failed and the next candidate is still being tried.
  auto searching = policy.Accept(*first, Searching());
  ASSERT_TRUE(searching.has_value());
  EXPECT_EQ(searching->state(), v1::DECISION_STATE_SEARCHING);
}

TEST(DecisionPolicyTest, SameDecisionIgnoresVersionAndReason) {
  DecisionPolicy policy;
  v1::Decision d = Active(5061, v1::ASSURANCE_PROBES);
  v1::Decision again = d;
  again.set_version(9);
  again.set_reason("renewal");
  auto held = policy.Accept(d, again);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->version(), 9u);       // The newest version is held...
  EXPECT_TRUE(SameDecision(d, *held));  // ...but it changes nothing.
}

TEST(DecisionPolicyTest, SameDecisionIgnoresRemainingTtls) {
  // Two replicas, or two renewals through a caching resolver, see different
  // remaining TTLs: no hook run for that.
  const v1::Decision d = Active(5061, v1::ASSURANCE_PROBES, 5063);
  v1::Decision other = d;
  other.mutable_primary()->set_ttl_seconds(17);
  other.mutable_secondary()->set_ttl_seconds(17);
  for (v1::Candidate& c : *other.mutable_candidates()) c.set_ttl_seconds(17);
  EXPECT_TRUE(SameDecision(d, other));
  other.mutable_primary()->set_port(5062);
  EXPECT_FALSE(SameDecision(d, other));
}

TEST(DecisionPolicyTest, UnconfirmedNeverMovesTheAgentOffItsPrimary) {
  DecisionPolicy policy;
  const v1::Decision held = Active(5062, v1::ASSURANCE_PROBES, 5063);
  // A replica that never saw this agent offers the first candidate.
  auto d = policy.Accept(held, Active(5061, v1::ASSURANCE_UNCONFIRMED, 5062));
  ASSERT_TRUE(d.has_value());  // The assurance changed: the device should know.
  EXPECT_EQ(d->primary().port(), 5062u);
  EXPECT_EQ(d->secondary().port(), 5063u);
  EXPECT_NE(d->reason().find("keeps the primary"), std::string::npos);
}

TEST(DecisionPolicyTest, UnconfirmedTakesTheOfferWhenTheHeldPrimaryLeftDns) {
  DecisionPolicy policy;
  v1::Decision held = Active(5062, v1::ASSURANCE_PROBES);
  held.mutable_primary()->set_port(5099);  // No longer a candidate.
  auto d = policy.Accept(held, Active(5061, v1::ASSURANCE_UNCONFIRMED));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().port(), 5061u);
}

TEST(DecisionPolicyTest, ConfirmedDecisionsMoveTheAgent) {
  DecisionPolicy policy;
  auto d = policy.Accept(Active(5062, v1::ASSURANCE_PROBES),
                         Active(5061, v1::ASSURANCE_DEVICE_REPORTS));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().port(), 5061u);
}

}  // namespace
}  // namespace sipresolver::client
