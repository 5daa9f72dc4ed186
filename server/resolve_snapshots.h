// ResolveSnapshots: recent Resolve answers, for the gRPC threads to answer a
// repeated Resolve without a round trip through the event loop.
//
// The loop owns the resolver and the health tracker, so a Resolve is handed
// to it and back: two thread switches that cost more than the resolution
// itself (a cache hit). A fleet asks the same names over and over, so the
// loop leaves each successful answer here, and for `max_age` (and never past
// the smallest TTL of its candidates) the same question gets the same
// answer straight from the calling thread. Health shown in such an answer is
// at most `max_age` old; the candidates stay probed, since the loop sees the
// name again as soon as the snapshot is gone. Thread-safe.
#ifndef SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_
#define SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/dns/device_resolver.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class ResolveSnapshots {
 public:
  ResolveSnapshots(absl::Duration max_age, size_t max_entries)
      : max_age_(max_age), max_entries_(max_entries) {}

  // The answer to `spec` left at most max_age before `now`, or null.
  std::shared_ptr<const v1::ResolveResponse> Find(const dns::ServerSpec& spec,
                                                  absl::Time now) const;
  // Leaves `response`, the answer to `spec` at `now`. When full, expired
  // snapshots go first; if none has, this one is not kept.
  void Put(const dns::ServerSpec& spec, const v1::ResolveResponse& response,
           absl::Time now);

 private:
  struct Snapshot {
    std::shared_ptr<const v1::ResolveResponse> response;
    absl::Time expires;
  };
  static std::string Key(const dns::ServerSpec& spec);

  const absl::Duration max_age_;
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Snapshot> snapshots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_RESOLVE_SNAPSHOTS_H_
