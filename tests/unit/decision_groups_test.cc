// ProfileWatcher's decision groups on simulated time: agents with the same
// candidate order share one engine; a late agent takes its group's server;
// new candidates split groups without moving any agent.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/decision/spreading.h"
#include "server/profile_watcher.h"
#include "tests/unit/watch_fixture.h"

namespace sipresolver::server {
namespace {

using DecisionGroupsTest = WatchFixture;

std::vector<std::shared_ptr<RecordingSink>> Agents(int n) {
  std::vector<std::shared_ptr<RecordingSink>> agents;
  for (int i = 0; i < n; ++i)
    agents.push_back(std::make_shared<RecordingSink>());
  return agents;
}

TEST_F(DecisionGroupsTest, AgentsOfOneOrderGetOneDecisionEachWithItsVersion) {
  // Equal priorities: agents spread over both servers, one engine per order.
  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10},
                       {"pbx2.itsp.test", "192.0.2.2", 10}});
  auto agents = Agents(20);
  for (size_t i = 0; i < agents.size(); ++i)
    ASSERT_TRUE(Subscribe(agents[i], Request(absl::StrCat("dev-", i))).ok());
  RunProbes();
  std::map<std::string, v1::Decision> by_primary;
  for (const auto& agent : agents) {
    ASSERT_EQ(agent->last().state(), v1::DECISION_STATE_ACTIVE);
    v1::Decision d = agent->last();
    d.clear_version();
    d.clear_generated_at();
    auto [it, added] = by_primary.emplace(d.primary().address(), d);
    if (!added) EXPECT_EQ(it->second.DebugString(), d.DebugString());
  }
  EXPECT_EQ(by_primary.size(), 2u);  // Spread over both.
}

TEST_F(DecisionGroupsTest, LateAgentTakesTheServerItsGroupIsOn) {
  // S8: after a failover the fleet returns to the recovered primary at its
  // next fallback check, not before; an agent that (re)connects meanwhile,
  // e.g. moved from another replica, is not sent back early.
  auto first = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(first, Request("dev-1")).ok());
  RunProbes();
  prober_.Set(kPbx1, testing::Timeout());
  timers_.Advance(absl::Seconds(10));
  RunProbes();
  ASSERT_EQ(first->last().primary().address(), "192.0.2.2");

  prober_.Set(kPbx1, testing::Reply(401));  // pbx1 answers again.
  timers_.Advance(absl::Seconds(10));
  RunProbes();
  ASSERT_EQ(tracker().Get(kPbx1)->counters.state,
            health::HealthState::kHealthy);
  ASSERT_EQ(first->last().primary().address(), "192.0.2.2");  // Until S8.

  auto late = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(late, Request("dev-1")).ok());
  EXPECT_EQ(late->last().primary().address(), "192.0.2.2");

  timers_.Advance(absl::Seconds(60));  // The S8 check: both go back.
  EXPECT_EQ(first->last().primary().address(), "192.0.2.1");
  EXPECT_EQ(late->last().primary().address(), "192.0.2.1");
}

TEST_F(DecisionGroupsTest, ANewGroupStartsFromWhatTheAgentRegistersWith) {
  // An agent that moved here (another replica) after failing over to pbx2;
  // this replica has no decision for its order yet, and pbx1 works again.
  WatchRequest moved = Request("dev-1");
  moved.applied.primary = kPbx2;
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, moved).ok());
  RunProbes();
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.2");
  // Its group keeps it for the others of its order too, until S8.
  auto other = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(other, Request("dev-1")).ok());
  EXPECT_EQ(other->last().primary().address(), "192.0.2.2");
  timers_.Advance(absl::Seconds(60));
  EXPECT_EQ(agent->last().primary().address(), "192.0.2.1");
  EXPECT_EQ(other->last().primary().address(), "192.0.2.1");
}

TEST_F(DecisionGroupsTest, AgentsArrivingBeforeDnsEachKeepTheirOwnServers) {
  // A replica just started: agents of both orders reconnect before its first
  // resolution, each on the server it registers with (its order's first).
  SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10},
                       {"pbx2.itsp.test", "192.0.2.2", 10}});
  transport_.Hold();
  std::vector<std::shared_ptr<RecordingSink>> agents = Agents(20);
  std::vector<std::string> expected;
  for (size_t i = 0; i < agents.size(); ++i) {
    WatchRequest moved = Request(absl::StrCat("dev-", i));
    const std::vector<dns::Candidate> order = decision::SpreadOrder(
        {dns::Candidate{"pbx1.itsp.test", "192.0.2.1", 5060, 10},
         dns::Candidate{"pbx2.itsp.test", "192.0.2.2", 5060, 10}},
        moved.agent_id);
    moved.applied.primary = sip::Endpoint{order[0].address, 5060};
    moved.applied.secondary = sip::Endpoint{order[1].address, 5060};
    expected.push_back(order[0].address);
    ASSERT_TRUE(Subscribe(agents[i], moved).ok());
  }
  transport_.Release();
  RunProbes();
  for (size_t i = 0; i < agents.size(); ++i)
    EXPECT_EQ(agents[i]->last().primary().address(), expected[i]) << i;
  EXPECT_NE(std::count(expected.begin(), expected.end(), "192.0.2.1"), 0);
  EXPECT_NE(std::count(expected.begin(), expected.end(), "192.0.2.2"), 0);
}

TEST_F(DecisionGroupsTest, NewCandidatesSplitGroupsWithoutMovingAnyAgent) {
  SetSrv("itsp.test",
         {{"pbx1.itsp.test", "192.0.2.1", 10},
          {"pbx2.itsp.test", "192.0.2.2", 10}},
         /*ttl=*/60);
  auto agents = Agents(30);
  for (size_t i = 0; i < agents.size(); ++i)
    ASSERT_TRUE(Subscribe(agents[i], Request(absl::StrCat("dev-", i))).ok());
  RunProbes();
  std::vector<std::string> primaries;
  std::vector<uint64_t> versions;
  for (const auto& agent : agents) {
    primaries.push_back(agent->last().primary().address());
    versions.push_back(agent->last().version());
  }

  // A third server of the same priority: new orders, same primaries (S11
  // keeps a primary that is still a candidate); versions only grow.
  SetSrv("itsp.test",
         {{"pbx1.itsp.test", "192.0.2.1", 10},
          {"pbx2.itsp.test", "192.0.2.2", 10},
          {"pbx3.itsp.test", "192.0.2.3", 10}},
         /*ttl=*/60);
  timers_.Advance(absl::Seconds(61));
  RunProbes();
  int with_pbx3_in_list = 0;
  for (size_t i = 0; i < agents.size(); ++i) {
    EXPECT_EQ(agents[i]->last().primary().address(), primaries[i]) << i;
    EXPECT_GE(agents[i]->last().version(), versions[i]);
    for (const v1::Candidate& c : agents[i]->last().candidates())
      with_pbx3_in_list += c.address() == "192.0.2.3" ? 1 : 0;
  }
  EXPECT_EQ(with_pbx3_in_list, 30);
  // Agents still connect and leave cleanly after the split.
  for (const auto& agent : agents) hub().Unsubscribe(agent.get());
  EXPECT_EQ(hub().streams(), 0u);
}

TEST_F(DecisionGroupsTest,
       AGroupSplitByNewCandidatesTellsOnlyAgentsWhoseDecisionChanged) {
  // One group of two modes whose orders coincide: spreading agents whose
  // own order is pbx1 then pbx2, and an agent that takes DNS's order. DNS
  // then lists the same servers the other way round: only the device-order
  // agent's decision changes; the others are not told anything.
  SetSrv("itsp.test",
         {{"pbx1.itsp.test", "192.0.2.1", 10},
          {"pbx2.itsp.test", "192.0.2.2", 10}},
         /*ttl=*/60);
  const std::vector<dns::Candidate> dns_order = {
      {"pbx1.itsp.test", "192.0.2.1", 5060, 10},
      {"pbx2.itsp.test", "192.0.2.2", 5060, 10}};
  std::vector<WatchRequest> requests;
  for (int i = 0; requests.size() < 5; ++i) {
    WatchRequest spread = Request(absl::StrCat("dev-", i));
    if (decision::SpreadOrder(dns_order, spread.agent_id)[0].address ==
        "192.0.2.1")
      requests.push_back(spread);
  }
  WatchRequest device_order = Request("dev-device-order");
  device_order.spread_mode = decision::SpreadMode::kDeviceOrder;
  requests.push_back(device_order);
  auto agents = Agents(static_cast<int>(requests.size()));
  for (size_t i = 0; i < agents.size(); ++i)
    ASSERT_TRUE(Subscribe(agents[i], requests[i]).ok());
  RunProbes();
  std::vector<size_t> seen;
  for (const auto& agent : agents) {
    ASSERT_EQ(agent->last().primary().address(), "192.0.2.1");
    seen.push_back(agent->decisions.size());
  }

  SetSrv("itsp.test",
         {{"pbx2.itsp.test", "192.0.2.2", 10},
          {"pbx1.itsp.test", "192.0.2.1", 10}},
         /*ttl=*/60);
  timers_.Advance(absl::Seconds(61));
  RunProbes();
  const auto& moved = *agents.back();
  EXPECT_EQ(moved.decisions.size(), seen.back() + 1);
  EXPECT_EQ(moved.last().candidates(0).address(), "192.0.2.2");
  for (size_t i = 0; i + 1 < agents.size(); ++i)
    EXPECT_EQ(agents[i]->decisions.size(), seen[i]) << i;
}

}  // namespace
}  // namespace sipresolver::server
