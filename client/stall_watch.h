// StallWatch: whether a decision stream has been silent (no decision, no
// heartbeat) for longer than its timeout, on an injected clock. Messages are
// noted on the reading thread and the verdict read on the watchdog's:
// thread-safe.
#ifndef SIPRESOLVER_CLIENT_STALL_WATCH_H_
#define SIPRESOLVER_CLIENT_STALL_WATCH_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/core/clock.h"

namespace sipresolver::client {

class StallWatch {
 public:
  // Silence counts from now. `clock` outlives this.
  StallWatch(const Clock& clock, absl::Duration timeout)
      : clock_(clock), timeout_(timeout), last_(clock.Now()) {}

  // A message arrived.
  void Heard() {
    absl::MutexLock lock(&mu_);
    last_ = clock_.Now();
  }
  // Silent for longer than the timeout.
  bool Stalled() const {
    absl::MutexLock lock(&mu_);
    return clock_.Now() - last_ > timeout_;
  }

 private:
  const Clock& clock_;
  const absl::Duration timeout_;
  mutable absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_STALL_WATCH_H_
