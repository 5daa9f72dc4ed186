// RateLimiter: the global probe-rate limit (--probe_rate_limit), a token
// bucket of `burst` tokens refilled at `per_second`, starting full.
//
// Over any interval of length T it grants at most burst + per_second * T
// acquisitions, however the calls are spaced. It is kept in the equivalent
// "theoretical arrival time" form (GCRA, ITU-T I.371) on absl::Time
// integers instead of a floating-point token count, so that bound holds
// exactly over arbitrarily long runs: the emission interval 1/per_second is
// rounded *up* to a whole nanosecond, never letting the rate creep above.
//
// Usage (on the event loop):
//   RateLimiter limiter(rate, burst, clock.Now());
//   if (!limiter.TryAcquire(clock.Now())) {
//     retry_timer.Start(limiter.TimeUntilAvailable(clock.Now()));
//   }
//
// `now` is an argument, not a Clock, so tests need no clock. A `now` earlier
// than a previous one is tolerated (it can only deny, never over-grant).
// Not thread-safe: owned by the event-loop thread that sends the probes.
#ifndef SIPRESOLVER_LIB_HEALTH_RATE_LIMITER_H_
#define SIPRESOLVER_LIB_HEALTH_RATE_LIMITER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sipresolver::health {

class RateLimiter {
 public:
  // INVALID_ARGUMENT unless per_second is finite and > 0 and burst is finite
  // and >= 1. Use this to validate flags.
  static absl::StatusOr<RateLimiter> Create(double per_second, double burst,
                                            absl::Time now);

  // Meant for values Create accepts; others are clamped, never trusted: the
  // rate to [1e-9, 1e9] per second (NaN to 1e-9: effectively only the
  // burst), the burst to [1, 1e9] (NaN to 1).
  RateLimiter(double per_second, double burst, absl::Time now);

  // Takes one token if one is available at `now`.
  bool TryAcquire(absl::Time now);

  // Zero when TryAcquire(now) would succeed; otherwise how long until it
  // would (assuming no other acquisitions).
  absl::Duration TimeUntilAvailable(absl::Time now) const;

  double per_second() const { return per_second_; }
  double burst() const { return burst_; }

 private:
  double per_second_;
  double burst_;
  absl::Duration interval_;  // Time to refill one token.
  absl::Duration
      tolerance_;   // (burst - 1) intervals: how far ahead tat_ may run.
  absl::Time tat_;  // When the bucket would be full again.
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_RATE_LIMITER_H_
