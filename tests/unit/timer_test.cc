// Timers: the simulated ones tests rely on, and the event loop's real ones.
#include "lib/core/timer.h"

#include <atomic>
#include <future>

#include "gtest/gtest.h"
#include "lib/core/event_loop.h"

namespace sipresolver {
namespace {

TEST(SimulatedTimersTest, FiresDueTimersInTimeOrderAtTheirOwnTime) {
  SimulatedClock clock;
  SimulatedTimers timers(clock);
  const absl::Time start = clock.Now();
  std::vector<std::pair<int, absl::Duration>> fired;
  auto b = timers.After(absl::Seconds(2), [&] {
    fired.push_back({2, clock.Now() - start});
  });
  auto a = timers.After(absl::Seconds(1), [&] {
    fired.push_back({1, clock.Now() - start});
  });
  auto c = timers.After(absl::Seconds(5), [&] {
    fired.push_back({5, clock.Now() - start});
  });
  timers.Advance(absl::Seconds(3));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(1, absl::Seconds(1)));
  EXPECT_EQ(fired[1], std::make_pair(2, absl::Seconds(2)));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(3));
}

TEST(SimulatedTimersTest, DestroyingTheHandleCancels) {
  SimulatedClock clock;
  SimulatedTimers timers(clock);
  bool fired = false;
  timers.After(absl::Seconds(1), [&] { fired = true; });  // Handle dropped.
  timers.Advance(absl::Seconds(2));
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(SimulatedTimersTest, TimersSetFromCallbacksFireInTheSameAdvance) {
  SimulatedClock clock;
  SimulatedTimers timers(clock);
  int count = 0;
  std::unique_ptr<Timer> next;
  std::function<void()> tick = [&] {
    ++count;
    next = timers.After(absl::Seconds(1), tick);
  };
  next = timers.After(absl::Seconds(1), tick);
  timers.Advance(absl::Seconds(10));
  EXPECT_EQ(count, 10);
}

TEST(EventLoopTest, PostRunsOnTheLoopThread) {
  EventLoop loop;
  loop.Start();
  std::promise<bool> on_loop;
  loop.Post([&] { on_loop.set_value(loop.InLoopThread()); });
  EXPECT_TRUE(on_loop.get_future().get());
  EXPECT_FALSE(loop.InLoopThread());
}

TEST(EventLoopTest, RunSyncBeforeStartRunsInline) {
  EventLoop loop;
  bool ran = false;
  loop.RunSync([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, RealTimersFireAndCancel) {
  EventLoop loop;
  loop.Start();
  std::promise<void> fired;
  std::atomic<bool> cancelled_fired{false};
  std::unique_ptr<Timer> keep, drop;
  loop.RunSync([&] {
    keep = loop.After(absl::Milliseconds(20), [&] { fired.set_value(); });
    drop = loop.After(absl::Milliseconds(10), [&] { cancelled_fired = true; });
    drop.reset();
  });
  EXPECT_EQ(fired.get_future().wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  EXPECT_FALSE(cancelled_fired);
  loop.RunSync([&] { keep.reset(); });
}

}  // namespace
}  // namespace sipresolver
