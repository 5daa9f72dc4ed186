// ReconnectBackoff: how long an agent waits before it reconnects a broken
// decision stream. At once when the server asked for it (a replica shutting
// down); otherwise exponential backoff with full jitter, uniform in
// [0, min(max, initial * 2^failures)], so a fleet that lost its server
// together does not come back together. A stream that was served (any
// message) starts the next outage from `initial` again. Not thread-safe.
#ifndef SIPRESOLVER_CLIENT_RECONNECT_BACKOFF_H_
#define SIPRESOLVER_CLIENT_RECONNECT_BACKOFF_H_

#include "absl/time/time.h"
#include "lib/core/random.h"

namespace sipresolver::client {

class ReconnectBackoff {
 public:
  // `random` outlives this.
  ReconnectBackoff(absl::Duration initial, absl::Duration max, Random& random)
      : initial_(initial), max_(max), random_(random) {}

  // The wait before the next attempt; each call without `reconnect_now`
  // counts one more failure.
  absl::Duration Next(bool reconnect_now);
  // The stream was served: the next outage starts fresh.
  void Reset() { failures_ = 0; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  Random& random_;
  int failures_ = 0;
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_RECONNECT_BACKOFF_H_
