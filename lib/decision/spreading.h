// Fleet spreading: which order an agent tries candidates of EQUAL priority in.
//
// A device orders equal-priority SRV targets randomly by weight (RFC 2782) and
// A records as the DNS server returned them. If the service handed every agent
// of a profile the same order, the whole fleet would register with one server.
// SpreadOrder gives each agent its own stable order instead, by weighted
// rendezvous hashing (highest random weight) on (agent id, address:port):
//   score = -max(weight, 1) / ln(h),  h = hash(agent, address:port) in (0, 1)
// The highest score goes first. This places a server first for a share of
// the fleet proportional to its SRV weight (evenly for A records, whose
// weight is 0), keeps each agent's order stable across calls, processes and
// machines (the hash is our own, not absl::Hash, which is seeded per
// process), and when a server disappears only the agents that had it first
// change their first choice — they spread over the rest by the same rule.
// Priorities are never mixed: each run of equal priority is reordered alone.
//
// Pure functions; thread-safe.
#ifndef SIPRESOLVER_LIB_DECISION_SPREADING_H_
#define SIPRESOLVER_LIB_DECISION_SPREADING_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "lib/dns/device_resolver.h"

namespace sipresolver::decision {

enum class SpreadMode {
  // Default: reorder each equal-priority group per agent (see above).
  kSpread,
  // Keep the order exactly as given: what the device itself would try
  // (RFC 2782 order as drawn by the resolver). Every agent gets the same
  // order, so a fleet converges on the first working server.
  kDeviceOrder,
};

// `candidates` in device order (ascending priority). Returns them with each
// run of equal priority reordered for `agent_id` (kSpread) or unchanged
// (kDeviceOrder). An empty agent id is hashed like any other, so all such
// agents share one order.
std::vector<dns::Candidate> SpreadOrder(std::vector<dns::Candidate> candidates,
                                        absl::string_view agent_id,
                                        SpreadMode mode = SpreadMode::kSpread);

// The rendezvous score of `candidate` for `agent_id` (higher goes first).
// Exposed for tests and diagnostics. Hashes with StableHash64
// (lib/core/stable_hash.h).
double RendezvousScore(absl::string_view agent_id,
                       const dns::Candidate& candidate);

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_LIB_DECISION_SPREADING_H_
