#include "lib/core/timer.h"

#include <algorithm>

namespace sipresolver {

class SimulatedTimers::Handle : public Timer {
 public:
  Handle(SimulatedTimers& owner, Key key) : owner_(owner), key_(key) {}
  ~Handle() override { owner_.timers_.erase(key_); }

 private:
  SimulatedTimers& owner_;
  Key key_;
};

std::unique_ptr<Timer> SimulatedTimers::After(absl::Duration delay,
                                              absl::AnyInvocable<void()> fn) {
  Key key(clock_.Now() + std::max(delay, absl::ZeroDuration()), next_id_++);
  timers_.emplace(key, std::move(fn));
  return std::make_unique<Handle>(*this, key);
}

void SimulatedTimers::Advance(absl::Duration d) {
  const absl::Time end = clock_.Now() + d;
  while (!timers_.empty() && timers_.begin()->first.first <= end) {
    auto node = timers_.extract(timers_.begin());
    clock_.Advance(node.key().first - clock_.Now());
    node.mapped()();  // May add or cancel timers.
  }
  clock_.Advance(end - clock_.Now());
}

}  // namespace sipresolver
