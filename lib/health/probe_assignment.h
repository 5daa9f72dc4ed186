// ProbeAssignment: which endpoints this replica probes itself, and when,
// while replicas share probing (ENGINEERING.md, "Many replicas"). The
// HealthTracker asks it before every probe of its regular schedule; the
// health of the endpoints other replicas probe reaches the tracker through
// HealthTracker::AdoptShared. Without one the tracker probes everything it
// tracks once per interval, as a replica alone does.
#ifndef SIPRESOLVER_LIB_HEALTH_PROBE_ASSIGNMENT_H_
#define SIPRESOLVER_LIB_HEALTH_PROBE_ASSIGNMENT_H_

#include <optional>

#include "absl/time/time.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

class ProbeAssignment {
 public:
  virtual ~ProbeAssignment() = default;
  // Time from now to this replica's next turn to probe `endpoint` (zero:
  // now), or nullopt if another replica probes it.
  virtual std::optional<absl::Duration> NextTurnIn(
      const sip::Endpoint& endpoint) = 0;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_PROBE_ASSIGNMENT_H_
