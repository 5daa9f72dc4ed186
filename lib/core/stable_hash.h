// A hash that is the same in every process, build and machine, for decisions
// that several processes must agree on without talking: which server an agent
// tries first (decision/spreading), which replica probes an endpoint
// (cluster/probe_ownership). absl::Hash is seeded per process, so it cannot
// serve here.
//
// Pure function; thread-safe.
#ifndef SIPRESOLVER_LIB_CORE_STABLE_HASH_H_
#define SIPRESOLVER_LIB_CORE_STABLE_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace sipresolver {

// FNV-1a 64 over the bytes followed by the SplitMix64 finaliser, so that
// near-identical inputs ("agent-1", "agent-2") land far apart. Stable forever:
// changing it reshuffles the whole fleet.
uint64_t StableHash64(absl::string_view bytes);

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_STABLE_HASH_H_
