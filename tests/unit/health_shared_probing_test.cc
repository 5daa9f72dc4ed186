// The health tracker sharing probes with other replicas (ProbeAssignment,
// AdoptShared, the probed and tracked listeners), on a simulated clock with
// a scripted prober.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "lib/health/health_tracker.h"
#include "lib/health/probe_assignment.h"
#include "tests/unit/health_tracker_fixture.h"

namespace sipresolver::health {
namespace {

// Turns set by the test: an endpoint absent from `turns` is another
// replica's.
class FakeAssignment : public ProbeAssignment {
 public:
  std::optional<absl::Duration> NextTurnIn(const sip::Endpoint& e) override {
    auto it = turns.find(e);
    if (it == turns.end()) return std::nullopt;
    return it->second;
  }
  std::map<sip::Endpoint, absl::Duration> turns;
};

class SharedProbingTest : public HealthTrackerFixture {
 protected:
  SharedProbingTest() {
    tracker().SetAssignment(&assignment_);
    tracker().SetProbedListener(
        [this](const sip::Endpoint& e, const SharedHealth& h) {
          shared_.emplace_back(e, h);
        });
    tracker().SetTrackedListener(
        [this](const sip::Endpoint& e, const std::string& domain, bool on) {
          tracked_.emplace_back(e, domain, on);
        });
  }

  static SharedHealth Health(HealthState state, int successes, int failures,
                             int code) {
    SharedHealth h;
    h.counters = {state, successes, failures};
    h.last_response_code = code;
    return h;
  }

  FakeAssignment assignment_;
  std::vector<std::pair<sip::Endpoint, SharedHealth>> shared_;
  std::vector<std::tuple<sip::Endpoint, std::string, bool>> tracked_;
};

TEST_F(SharedProbingTest, AnEndpointAnotherReplicaProbesIsNeverProbedHere) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  for (int i = 0; i < 6; ++i) {
    timers_.Advance(absl::Seconds(10));
    ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  }
  EXPECT_TRUE(prober_.requests().empty());
  EXPECT_EQ(State(kPbx), HealthState::kUnknown);

  tracker().AdoptShared(kPbx, Health(HealthState::kHealthy, 2, 0, 401));
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);
  EXPECT_EQ(tracker().Get(kPbx)->decision_state, HealthState::kHealthy);
  EXPECT_EQ(tracker().Get(kPbx)->last_response_code, 401);
  EXPECT_TRUE(shared_.empty());  // Taken over, not this replica's to share.
}

TEST_F(SharedProbingTest, RegularProbesGoOutOnlyAtThisReplicasTurns) {
  assignment_.turns[kPbx] = absl::Seconds(30);  // Three intervals away.
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  timers_.RunDue();
  ASSERT_EQ(prober_.Complete(), 1);  // A new endpoint: at once.
  ASSERT_EQ(State(kPbx), HealthState::kHealthy);
  timers_.Advance(absl::Seconds(29));
  EXPECT_EQ(prober_.requests().size(), 1u);
  timers_.Advance(absl::Seconds(1));
  EXPECT_EQ(prober_.requests().size(), 2u);
}

TEST_F(SharedProbingTest, AMissIsConfirmedAtOnceByTheReplicaThatSawIt) {
  assignment_.turns[kPbx] = absl::Seconds(30);
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  timers_.RunDue();
  prober_.Complete();
  prober_.Set(kPbx, Timeout());
  timers_.Advance(absl::Seconds(30));
  ASSERT_EQ(prober_.Complete(), 1);
  EXPECT_EQ(State(kPbx), HealthState::kHealthy);  // 1 of 2 misses.
  timers_.Advance(absl::Seconds(1));              // The edge, not the turn.
  ASSERT_EQ(prober_.Complete(), 1);
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
}

TEST_F(SharedProbingTest, OnlyResultsThatChangeTheVerdictAreShared) {
  assignment_.turns[kPbx] = absl::Seconds(10);
  prober_.Set(kPbx, Reply(401));
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  AnswerFor(absl::Seconds(45));   // Five 401s.
  ASSERT_EQ(shared_.size(), 1u);  // UNKNOWN -> HEALTHY only.
  EXPECT_EQ(shared_[0].first, kPbx);
  EXPECT_EQ(shared_[0].second.counters.state, HealthState::kHealthy);
  EXPECT_EQ(shared_[0].second.last_response_code, 401);

  prober_.Set(kPbx, Reply(503));
  AnswerFor(absl::Seconds(10));
  ASSERT_EQ(shared_.size(), 2u);
  EXPECT_EQ(shared_[1].second.counters.state, HealthState::kUnhealthy);
  EXPECT_EQ(shared_[1].second.last_response_code, 503);
  // Still 503: nothing new for the others (failures past the threshold
  // change nothing).
  AnswerFor(absl::Seconds(45));
  EXPECT_EQ(shared_.size(), 2u);
}

TEST_F(SharedProbingTest, ProgressTakenOverCountsTowardTheThreshold) {
  assignment_.turns[kPbx] = absl::Seconds(20);
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  timers_.RunDue();
  prober_.Complete();
  // The other owner saw a miss (1 of 2); this replica's next probe is
  // another: the endpoint is down, as one replica seeing both would say.
  tracker().AdoptShared(kPbx, Health(HealthState::kHealthy, 0, 1, 0));
  prober_.Set(kPbx, Timeout());
  timers_.Advance(absl::Seconds(20));
  prober_.Complete();
  EXPECT_EQ(State(kPbx), HealthState::kUnhealthy);
}

TEST_F(SharedProbingTest, AnEndpointGainedIsProbedAtItsNewTurn) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  timers_.Advance(absl::Seconds(15));
  EXPECT_TRUE(prober_.requests().empty());
  assignment_.turns[kPbx] = absl::Seconds(3);
  tracker().Reassign();
  timers_.Advance(absl::Seconds(3));
  EXPECT_EQ(prober_.requests().size(), 1u);
}

TEST_F(SharedProbingTest, TheTrackedListenerHearsNewAndIdleEndpoints) {
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  ASSERT_TRUE(tracker().Touch(kPbx, "other.test").ok());  // Not new.
  ASSERT_EQ(tracked_.size(), 1u);
  EXPECT_EQ(tracked_[0], std::make_tuple(kPbx, std::string("itsp.test"), true));
  // Not probed here, and still dropped once idle.
  timers_.Advance(absl::Minutes(6));
  EXPECT_FALSE(tracker().Get(kPbx).has_value());
  ASSERT_EQ(tracked_.size(), 2u);
  EXPECT_EQ(tracked_[1], std::make_tuple(kPbx, std::string(), false));
}

// Fail static across replicas: reports that reached other replicas count
// toward the quorum here, and ours are shared while the probes fail.
TEST_F(SharedProbingTest, EvidenceFromOtherReplicasCountsTowardTheQuorum) {
  options_.evidence.quorum = 3;
  tracker_.reset();
  std::vector<std::vector<SharedReport>> exported;
  tracker().SetAssignment(&assignment_);
  tracker().SetEvidenceListener(
      [&](const sip::Endpoint&, const std::vector<SharedReport>& reports) {
        exported.push_back(reports);
      });
  assignment_.turns[kPbx] = absl::Seconds(10);
  prober_.Set(kPbx, Reply(503));
  ASSERT_TRUE(tracker().Touch(kPbx, "itsp.test").ok());
  AnswerFor(absl::Milliseconds(100));
  ASSERT_EQ(State(kPbx), HealthState::kUnhealthy);
  exported.clear();

  tracker().ReportRegistration(kPbx, Reporter::Of("dev1", "conn1"), true);
  ASSERT_EQ(exported.size(), 1u);
  ASSERT_EQ(exported[0].size(), 1u);  // Ours, to share.
  EXPECT_TRUE(exported[0][0].registered);
  EXPECT_EQ(tracker().Get(kPbx)->decision_state, HealthState::kUnhealthy);

  tracker().AdoptEvidence(
      kPbx, "replica-b",
      {{Reporter::Of("dev2", "conn2"), true, absl::ZeroDuration()}});
  tracker().AdoptEvidence(
      kPbx, "replica-c",
      {{Reporter::Of("dev3", "conn3"), true, absl::ZeroDuration()}});
  EXPECT_EQ(tracker().Get(kPbx)->devices.successes, 3);
  EXPECT_EQ(tracker().Get(kPbx)->decision_state, HealthState::kHealthy);

  tracker().AdoptEvidence(kPbx, "replica-c", {});  // Its agent left.
  EXPECT_EQ(tracker().Get(kPbx)->decision_state, HealthState::kUnhealthy);

  // The probes recover: nothing of ours to share any more.
  prober_.Set(kPbx, Reply(200));
  AnswerFor(absl::Seconds(12));
  ASSERT_EQ(State(kPbx), HealthState::kHealthy);
  ASSERT_FALSE(exported.empty());
  EXPECT_TRUE(exported.back().empty());
}

}  // namespace
}  // namespace sipresolver::health
