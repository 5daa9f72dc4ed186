// CachingResolver: DNS queries through the TTL cache, with one upstream query
// per (name, type) in flight and serve-stale when the DNS server fails.
//
// Concurrent queries for the same key join the job already in flight
// (Chromium HostResolverManager style): the job leaves the map and the cache
// is written before any waiter is called, so a waiter that queries again sees
// the cache, never a finished job. Loop thread only.
#ifndef SIPRESOLVER_LIB_DNS_CACHING_RESOLVER_H_
#define SIPRESOLVER_LIB_DNS_CACHING_RESOLVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "lib/core/clock.h"
#include "lib/dns/dns_cache.h"
#include "lib/dns/dns_transport.h"

namespace sipresolver::dns {

enum class CacheResult { kHit, kMiss, kStale };
absl::string_view CacheResultName(CacheResult result);  // "hit", ...

// Upstream outcome labels, a small fixed set fit for metric labels:
// "answer", "nxdomain", "nodata", "timeout", "malformed", "error".
absl::string_view UpstreamOutcome(const absl::StatusOr<DnsAnswer>& result);

// Counts what the resolver does; the server maps it onto Prometheus. Called
// on the loop thread.
class DnsObserver {
 public:
  virtual ~DnsObserver() = default;
  virtual void OnCacheLookup(RecordType type, CacheResult result) {}
  virtual void OnUpstreamQuery(RecordType type, absl::string_view outcome) {}
  virtual void OnJoinedInFlight(RecordType type) {}
};

struct QueryResult {
  // UNAVAILABLE when the DNS server failed and no answer was cached within
  // the stale window; the answer is null then.
  absl::Status status;
  std::shared_ptr<const DnsAnswer> answer;
  absl::Duration remaining_ttl;
  bool from_cache = false;
  bool stale = false;
  // How long the answer has been cached (zero when fresh from upstream):
  // a record's TTL minus this is what is left of it.
  absl::Duration age;
};

class CachingResolver {
 public:
  using Callback = absl::AnyInvocable<void(const QueryResult&)>;

  // `transport`, `clock` and `observer` (may be null) must outlive this.
  CachingResolver(DnsTransport& transport, const Clock& clock,
                  const CacheLimits& limits, DnsObserver* observer);

  // `name` must be normalised. `done` may run before Query returns.
  void Query(const std::string& name, RecordType type, Callback done);

  size_t in_flight() const { return jobs_.size(); }
  const DnsCache& cache() const { return cache_; }

 private:
  void Complete(const CacheKey& key, absl::StatusOr<DnsAnswer> result);

  DnsTransport& transport_;
  const Clock& clock_;
  DnsObserver* observer_;
  DnsObserver null_observer_;
  DnsCache cache_;
  absl::flat_hash_map<CacheKey, std::vector<Callback>> jobs_;
};

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_CACHING_RESOLVER_H_
