// Conversions for WatchDecision: the API's ItspProfile to the engine's
// Profile, and the engine's Decision to the API's Decision.
#ifndef SIPRESOLVER_SERVER_DECISION_CONVERT_H_
#define SIPRESOLVER_SERVER_DECISION_CONVERT_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/decision/decision.h"
#include "lib/decision/profile.h"
#include "lib/decision/spreading.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

inline constexpr size_t kMaxAgentIdLength = 128;

// agent_id of WatchDecision and ReportObservation: 1-128 printable ASCII
// characters without spaces; INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateAgentId(absl::string_view agent_id);

struct WatchRequest {
  decision::Profile profile;
  std::string agent_id;
  decision::SpreadMode spread_mode = decision::SpreadMode::kSpread;
  uint64_t last_applied_version = 0;
  // What the agent registers with (applied_primary, applied_secondary).
  decision::Registration applied;
};

// Validates everything a client sent; INVALID_ARGUMENT names the field
// ("profile.proxy_server: ...", "agent_id: ...").
absl::StatusOr<WatchRequest> ToWatchRequest(
    const v1::WatchDecisionRequest& request);

// `version` replaces the engine's own count (see ProfileWatcher). Engine
// times are monotonic Clock times; `clock_now`/`wall_now` map them to wall
// time.
void ToDecision(const decision::Decision& decision, uint64_t version,
                absl::Time clock_now, absl::Time wall_now, v1::Decision& out);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_CONVERT_H_
