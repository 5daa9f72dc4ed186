// ResolveSnapshots: recent Resolve answers, for the gRPC threads to answer a
// repeated Resolve without a round trip through the event loop.
//
// The loop owns the resolver and the health tracker, so a Resolve is handed
// to it and back: two thread switches that cost more than the resolution
// itself (a cache hit). A fleet asks the same names over and over, so the
// loop leaves each successful resolution here, and for `max_age` (and never
// past the smallest TTL of its candidates) the same question is answered
// straight from the calling thread.
//
// What is kept is what is expensive to compute: the lookups, every
// candidate (before S4 keeps the first) and the health the loop saw. The
// order is not kept: each answer draws its own RFC 2782 weighted order from
// the candidates' SRV priorities and weights, as the loop (and a device)
// draws at each lookup, so a burst of devices asking at once splits by the
// weights the ITSP published instead of all getting one draw's order.
// Health shown in such an answer is at most `max_age` old. Thread-safe.
#ifndef SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_
#define SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/core/random.h"
#include "lib/dns/device_resolver.h"
#include "lib/dns/srv_order.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class ResolveSnapshots {
 public:
  // `random` draws the orders from any gRPC thread: it must be thread-safe
  // (RealRandom is) and outlive this.
  ResolveSnapshots(absl::Duration max_age, size_t max_entries, Random& random)
      : max_age_(max_age), max_entries_(max_entries), random_(random) {}

  // Fills `response` with an answer to `spec` from a snapshot left at most
  // max_age before `now`, in a freshly drawn order (the first candidate only
  // without redundancy, S4). False, and `response` untouched, when there is
  // none.
  bool Answer(const dns::ServerSpec& spec, absl::Time now,
              v1::ResolveResponse& response) const;
  // Leaves `resolved`, the resolution of `spec` at `now` with every
  // candidate (whatever spec.redundancy says) in one drawn order. When
  // full, expired snapshots go first; if none has, this one is not kept.
  void Put(const dns::ServerSpec& spec, const v1::ResolveResponse& resolved,
           absl::Time now);

 private:
  // A resolution split into what an order is drawn over.
  struct Resolution {
    v1::ResolveResponse lookups;  // Everything but the candidates.
    // The candidates, one group per SRV record (its target's addresses, in
    // answer order), or one group each for address records and literals,
    // whose order is fixed (R3, R4).
    std::vector<std::vector<v1::Candidate>> groups;
    std::vector<dns::SrvRank> ranks;  // Per group; empty: the order is fixed.
  };
  struct Snapshot {
    std::shared_ptr<const Resolution> resolution;
    absl::Time expires;
  };
  static std::string Key(const dns::ServerSpec& spec);
  static std::shared_ptr<const Resolution> Split(
      const v1::ResolveResponse& resolved);

  const absl::Duration max_age_;
  const size_t max_entries_;
  Random& random_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Snapshot> snapshots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_
