// Clock: the only way engine code reads time, so tests can simulate it.
//
// Times are monotonic (never jump with wall-clock changes); the epoch is
// arbitrary, so only differences and comparisons mean anything. Only
// RealClock reads std::chrono::steady_clock.
#ifndef SIPRESOLVER_LIB_CORE_CLOCK_H_
#define SIPRESOLVER_LIB_CORE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sipresolver {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Thread-safe; one instance can be shared by everything.
class RealClock : public Clock {
 public:
  absl::Time Now() const override;
};

// absl::Now(): wall-clock time, for timestamps shown to people and versions
// that must grow across restarts. Not monotonic: never time a wait with it.
class WallClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to. Thread-safe.
class SimulatedClock : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::UnixEpoch() + absl::Hours(1))
      : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_CLOCK_H_
