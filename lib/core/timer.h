// TimerFactory: how engine code waits, so tests can fire timers by advancing
// a simulated clock instead of sleeping (Envoy's simulated time idea).
//
// A timer is cancelled by destroying its handle; a callback never runs after
// its handle is gone. Single-threaded: create, destroy and fire timers on the
// event loop thread (or the test's thread for SimulatedTimers).
#ifndef SIPRESOLVER_LIB_CORE_TIMER_H_
#define SIPRESOLVER_LIB_CORE_TIMER_H_

#include <cstdint>
#include <map>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "lib/core/clock.h"

namespace sipresolver {

class Timer {
 public:
  virtual ~Timer() = default;
};

class TimerFactory {
 public:
  virtual ~TimerFactory() = default;
  // Runs `fn` once, `delay` from now, unless the handle is destroyed first.
  virtual std::unique_ptr<Timer> After(absl::Duration delay,
                                       absl::AnyInvocable<void()> fn) = 0;
};

// Timers on a SimulatedClock: Advance() moves the clock forward and fires
// every timer that comes due, in time order, each at its own time.
class SimulatedTimers : public TimerFactory {
 public:
  explicit SimulatedTimers(SimulatedClock& clock) : clock_(clock) {}

  std::unique_ptr<Timer> After(absl::Duration delay,
                               absl::AnyInvocable<void()> fn) override;
  void Advance(absl::Duration d);
  // Fires what is due now without moving the clock.
  void RunDue() { Advance(absl::ZeroDuration()); }
  size_t pending() const { return timers_.size(); }

 private:
  class Handle;
  using Key = std::pair<absl::Time, uint64_t>;  // Due time, then FIFO.

  SimulatedClock& clock_;
  std::map<Key, absl::AnyInvocable<void()>> timers_;
  uint64_t next_id_ = 0;
};

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_TIMER_H_
