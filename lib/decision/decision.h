// Decision: what a device of one ITSP profile would do right now — which
// server it registers with (primary), the second registration (secondary),
// the higher-priority servers it keeps trying to fall back to, and where its
// keep-alives go. Produced by DecisionEngine, published by a profile watcher
// to every agent of the profile. Plain value types.
#ifndef SIPRESOLVER_LIB_DECISION_DECISION_H_
#define SIPRESOLVER_LIB_DECISION_DECISION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_state.h"
#include "lib/sip/prober.h"

namespace sipresolver::decision {

enum class DecisionState {
  kSearching,  // S6: the search is still waiting for a candidate's answer.
  kActive,     // A primary was found (or redundancy is off: S4).
  kNoWorkingServer,  // S7: every candidate failed; next_search says when again.
};

// How the service knows the primary works (fail static).
enum class Assurance {
  kNone,           // No primary.
  kProbes,         // The primary answers the service's probes.
  kDeviceReports,  // Its probes fail, but a quorum of devices registers there.
  // The service could not confirm any candidate (every one fails its probes
  // and no quorum of devices confirms a failure) or suspects its own probe
  // path: the decision is what the device would do by itself.
  kUnconfirmed,
};

// N2: where keep-alives (STUN, OPTIONS or CRLF) go.
struct KeepAliveTarget {
  // The configured keep-alive server (normalised), else the primary's host
  // name (its SRV target or the configured name of an A record).
  std::string host;
  // IP text. Empty when `host` is a configured domain name: the device
  // resolves it itself.
  std::string address;
  uint16_t port = 0;

  bool operator==(const KeepAliveTarget& o) const {
    return host == o.host && address == o.address && port == o.port;
  }
  bool operator!=(const KeepAliveTarget& o) const { return !(*this == o); }
};

struct Decision {
  // +1 on every change of anything below except `reason`; 0 before the
  // engine decided anything.
  uint64_t version = 0;
  DecisionState state = DecisionState::kSearching;
  std::optional<dns::Candidate> primary;  // Set exactly when kActive.
  // The primary's last known health. With redundancy on it is HEALTHY by
  // construction; with redundancy off (S4/S5) the device keeps the primary
  // whatever its health, and this is how the health is still reported.
  health::HealthState primary_health = health::HealthState::kUnknown;
  std::optional<dns::Candidate> secondary;       // S9; implies a primary (S10).
  std::vector<dns::Candidate> primary_fallback;  // S8, in device order.
  std::vector<dns::Candidate> secondary_fallback;  // S9, in device order.
  std::vector<dns::Candidate> candidates;          // All, in device order.
  std::optional<KeepAliveTarget> keep_alive;       // N2.
  // kNoWorkingServer with redundancy: when the search runs again (S7).
  // InfiniteFuture otherwise. Same time base as the engine's `now`.
  absl::Time next_search = absl::InfiniteFuture();
  Assurance assurance = Assurance::kNone;
  // The service suspects its own probe path (panic threshold): every
  // decision is kUnconfirmed.
  bool probe_path_suspect = false;
  // For people: what changed and why, naming the rule ("S10: ...").
  std::string reason;
};

// What a device registers with: the primary and secondary of the last
// confirmed decision it applied (a reconnecting agent says so), which a
// search keeps while they work and fail static keeps while the service
// cannot confirm anything.
struct Registration {
  std::optional<sip::Endpoint> primary;
  std::optional<sip::Endpoint> secondary;
};

// S9: a candidate may be the secondary of `primary` when its priority is
// lower or equal and it is not the primary itself (compared by endpoint: DNS
// may list one address under two names).
bool EligibleAsSecondary(const dns::Candidate& candidate,
                         const sip::Endpoint& candidate_at,
                         const dns::Candidate& primary,
                         const sip::Endpoint& primary_at);

// Equal in everything but version, reason and the candidates' TTLs: whether
// a new decision is a change worth publishing. Agents compare the wire
// message the same way (client::SameDecision; same_decision_parity_test).
bool SameContent(const Decision& a, const Decision& b);

// Equal in everything but the TTL.
bool SameCandidate(const dns::Candidate& a, const dns::Candidate& b);

// "192.0.2.1:5060 (sip.example.com)", "[2001:db8::1]:5061 (...)": for reasons.
std::string DescribeCandidate(const dns::Candidate& candidate);

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_LIB_DECISION_DECISION_H_
