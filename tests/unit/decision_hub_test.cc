// DecisionHub on simulated time: watchers shared by profile, reaped after
// their grace, limits, shutdown.
#include "server/decision_hub.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/watch_fixture.h"

namespace sipresolver::server {
namespace {

using ::testing::HasSubstr;

using DecisionHubTest = WatchFixture;

TEST_F(DecisionHubTest, IdenticalProfilesShareOneWatcher) {
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  auto c = std::make_shared<RecordingSink>();
  SetSrv("other.test", {{"pbx9.other.test", "192.0.2.9", 10}});
  ASSERT_TRUE(Subscribe(a, Request("dev-a")).ok());
  ASSERT_TRUE(Subscribe(b, Request("dev-b")).ok());
  ASSERT_TRUE(Subscribe(c, Request("dev-c", "other.test")).ok());
  EXPECT_EQ(hub().watchers(), 2u);
  EXPECT_EQ(hub().streams(), 3u);
}

TEST_F(DecisionHubTest, WatcherOutlivesItsLastAgentByTheGraceOnly) {
  auto agent = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(agent, Request("dev-1")).ok());
  RunProbes();
  hub().Unsubscribe(agent.get());
  EXPECT_EQ(hub().streams(), 0u);

  // An agent reconnecting within the grace finds everything warm: its
  // first message is already the decision, not a search.
  timers_.Advance(options_.idle_grace - absl::Seconds(1));
  ASSERT_EQ(hub().watchers(), 1u);
  auto back = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(back, Request("dev-1")).ok());
  ASSERT_EQ(back->decisions.size(), 1u);
  EXPECT_EQ(back->last().state(), v1::DECISION_STATE_ACTIVE);

  hub().Unsubscribe(back.get());
  timers_.Advance(options_.idle_grace + absl::Seconds(1));
  EXPECT_EQ(hub().watchers(), 0u);
}

TEST_F(DecisionHubTest, StreamsPerConnectionAreLimited) {
  options_.max_streams_per_peer = 2;
  std::vector<std::shared_ptr<RecordingSink>> agents;
  for (int i = 0; i < 3; ++i)
    agents.push_back(std::make_shared<RecordingSink>());
  ASSERT_TRUE(Subscribe(agents[0], Request("dev-0"), "peer-a").ok());
  ASSERT_TRUE(Subscribe(agents[1], Request("dev-1"), "peer-a").ok());
  const absl::Status s = Subscribe(agents[2], Request("dev-2"), "peer-a");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("--max_streams_per_connection"));
  EXPECT_TRUE(Subscribe(agents[2], Request("dev-2"), "peer-b").ok());
  // A stream that ends frees its place.
  hub().Unsubscribe(agents[0].get());
  auto next = std::make_shared<RecordingSink>();
  EXPECT_TRUE(Subscribe(next, Request("dev-3"), "peer-a").ok());
}

// Refused calls leave nothing behind: the per-connection count is kept for
// connections with streams only, however many connections were refused.
TEST_F(DecisionHubTest, RefusedConnectionsAreNotRemembered) {
  options_.max_watchers = 1;
  SetSrv("other.test", {{"pbx9.other.test", "192.0.2.9", 10}});
  auto a = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(a, Request("dev-a"), "peer-a").ok());
  for (int i = 0; i < 100; ++i) {
    auto refused = std::make_shared<RecordingSink>();
    ASSERT_FALSE(Subscribe(refused, Request("dev-b", "other.test"),
                           absl::StrCat("peer-", i))
                     .ok());
  }
  EXPECT_EQ(hub().peers(), 1u);
  hub().Unsubscribe(a.get());
  EXPECT_EQ(hub().peers(), 0u);
}

TEST_F(DecisionHubTest, WatchersAreLimited) {
  options_.max_watchers = 1;
  SetSrv("other.test", {{"pbx9.other.test", "192.0.2.9", 10}});
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(a, Request("dev-a")).ok());
  const absl::Status s = Subscribe(b, Request("dev-b", "other.test"));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("--max_watchers"));
}

TEST_F(DecisionHubTest, NothingMayBeProbedRefusesEveryAgent) {
  tracker(/*allow=*/"");
  auto agent = std::make_shared<RecordingSink>();
  const absl::Status s = Subscribe(agent, Request("dev-1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("--probe_allow"));
}

TEST_F(DecisionHubTest, ShutdownAsksEveryAgentToReconnectNow) {
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  SetSrv("other.test", {{"pbx9.other.test", "192.0.2.9", 10}});
  ASSERT_TRUE(Subscribe(a, Request("dev-a")).ok());
  ASSERT_TRUE(Subscribe(b, Request("dev-b", "other.test")).ok());
  hub().EndAll(absl::UnavailableError("server shutting down; reconnect"));
  for (const auto& agent : {a, b}) {
    ASSERT_TRUE(agent->ended.has_value());
    EXPECT_EQ(agent->ended->code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(agent->reconnect_now);
  }
}

TEST_F(DecisionHubTest, HealthReachesOnlyTheWatchersThatPinnedTheServer) {
  SetSrv("other.test", {{"pbx9.other.test", "192.0.2.9", 10}});
  auto a = std::make_shared<RecordingSink>();
  auto c = std::make_shared<RecordingSink>();
  ASSERT_TRUE(Subscribe(a, Request("dev-a")).ok());
  ASSERT_TRUE(Subscribe(c, Request("dev-c", "other.test")).ok());
  RunProbes();
  const size_t c_messages = c->decisions.size();
  prober_.Set(kPbx1, testing::Timeout());
  timers_.Advance(absl::Seconds(10));
  RunProbes();
  EXPECT_EQ(a->last().primary().address(), "192.0.2.2");
  EXPECT_EQ(c->decisions.size(), c_messages);
  EXPECT_EQ(c->last().primary().address(), "192.0.2.9");
}

}  // namespace
}  // namespace sipresolver::server
