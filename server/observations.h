// ReportObservation's input checks and its per-client rate limit: what
// agents report is foreign input, and a flood of reports must not turn into
// a flood of probes.
#ifndef SIPRESOLVER_SERVER_OBSERVATIONS_H_
#define SIPRESOLVER_SERVER_OBSERVATIONS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/health/rate_limiter.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

inline constexpr int kMaxReportedRegistrations = 16;
inline constexpr size_t kMaxReportedErrorLength = 256;

// INVALID_ARGUMENT naming the field: agent_id, addresses that are not IP
// literals, ports, unknown enums, status codes outside 100-699 (or 0), too
// many registrations, over-long errors.
absl::Status ValidateObservation(const v1::ReportObservationRequest& request);

// Reports per minute per client (ClientIdentity). Thread-safe. Remembers at
// most `max_peers` clients (when full, an arbitrary one is forgotten).
class ReportLimiter {
 public:
  ReportLimiter(double per_minute, size_t max_peers = 10000)
      : per_minute_(per_minute), max_peers_(max_peers) {}
  bool Allow(const std::string& peer, absl::Time now);

 private:
  const double per_minute_;
  const size_t max_peers_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, health::RateLimiter> peers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_OBSERVATIONS_H_
