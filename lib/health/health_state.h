// The pure parts of health checking, kept apart from sockets and timers so
// they can be tested as plain functions: what a probe result means (S6), how
// counters move a state across thresholds, and when to probe next
// (Envoy health checker style).
#ifndef SIPRESOLVER_LIB_HEALTH_HEALTH_STATE_H_
#define SIPRESOLVER_LIB_HEALTH_HEALTH_STATE_H_

#include <set>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/core/random.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

enum class HealthState { kUnknown, kHealthy, kUnhealthy };
absl::string_view HealthStateName(HealthState state);  // "unknown", ...

// Which final response codes mean "a device could register here" (S6), like
// Kamailio's ds_ping_reply_codes. Without credentials a 401/407 challenge
// shows a server that processes registrations; with credentials only a
// completed registration (2xx) counts.
struct AcceptedCodes {
  std::set<int> without_credentials = {401, 407};  // Plus every 2xx.
  std::set<int> with_credentials;                  // Plus every 2xx.
};

enum class Verdict {
  kSuccess,
  kFailure,          // A timeout: counts toward the unhealthy threshold.
  kDefiniteFailure,  // An error reply or a network error: down at once.
};
Verdict Classify(const sip::ProbeResult& result, bool had_credentials,
                 const AcceptedCodes& accepted);

struct Thresholds {
  int healthy = 2;    // Consecutive successes to leave UNHEALTHY.
  int unhealthy = 4;  // Consecutive misses (timeouts) to leave HEALTHY.
};

struct Counters {
  HealthState state = HealthState::kUnknown;
  int consecutive_successes = 0;
  int consecutive_failures = 0;
};

// Applies one verdict. From UNKNOWN the first result decides.
Counters Apply(Counters counters, Verdict verdict,
               const Thresholds& thresholds);

struct Intervals {
  absl::Duration interval = absl::Seconds(2);  // Stable endpoints.
  // While a result disagrees with the state (a change is pending), and
  // while the state is UNKNOWN: find out fast (0: confirm at once).
  absl::Duration edge_interval = absl::ZeroDuration();
  double jitter = 0.1;  // Each delay is scaled by 1 +/- up to this.
};

// Whether the last result disagrees with the state, or the state is still
// UNKNOWN: a change may be near, so the next probe should come soon.
bool ChangePending(const Counters& counters);

// When to probe again after a probe that left `counters`.
absl::Duration NextProbeDelay(const Counters& counters,
                              const Intervals& intervals, Random& random);

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_HEALTH_STATE_H_
