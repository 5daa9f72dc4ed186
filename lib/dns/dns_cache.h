// DnsCache: answers by (name, type), kept for their TTL, plus a bounded stale
// window used only when the DNS server fails (serve-stale, RFC 8767).
//
// The cache takes `now` as an argument instead of reading a clock, so its
// tests need no clock at all. Positive TTLs come from the records (clamped to
// [min_ttl, max_ttl]); NXDOMAIN/NODATA use the SOA negative TTL (RFC 2308) or
// a default, capped by max_negative_ttl. Not thread-safe: owned by the loop.
#ifndef SIPRESOLVER_LIB_DNS_DNS_CACHE_H_
#define SIPRESOLVER_LIB_DNS_DNS_CACHE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "lib/dns/dns_answer.h"

namespace sipresolver::dns {

struct CacheLimits {
  absl::Duration min_ttl = absl::ZeroDuration();
  absl::Duration max_ttl = absl::Hours(1);
  // Negative answers without an SOA to take a TTL from.
  absl::Duration default_negative_ttl = absl::Seconds(30);
  absl::Duration max_negative_ttl = absl::Minutes(5);
  // How long past its TTL an answer may still be served when DNS fails.
  absl::Duration max_stale = absl::Hours(1);
  size_t max_entries = 10000;
};

using CacheKey = std::pair<std::string, RecordType>;

// How long `answer` may be cached under `limits`.
absl::Duration CacheTtl(const DnsAnswer& answer, const CacheLimits& limits);

class DnsCache {
 public:
  struct Hit {
    std::shared_ptr<const DnsAnswer> answer;
    absl::Duration remaining_ttl;  // Zero once expired.
    bool stale = false;            // Expired, served from the stale window.
    // Since the answer was stored: each record's own TTL minus this is
    // what is left of it (the entry lives by the answer's smallest TTL,
    // which does not cover the additional section).
    absl::Duration age;
  };

  explicit DnsCache(const CacheLimits& limits) : limits_(limits) {}

  // A fresh entry only.
  std::optional<Hit> Lookup(const CacheKey& key, absl::Time now) const;
  // A fresh entry, or an expired one that is still inside max_stale.
  std::optional<Hit> LookupStale(const CacheKey& key, absl::Time now) const;
  // Stores `answer` for CacheTtl(answer). Entries with a zero TTL are kept
  // too: never fresh, but available to LookupStale. When full, drops entries
  // past the stale window, then the ones closest to expiry.
  void Set(const CacheKey& key, std::shared_ptr<const DnsAnswer> answer,
           absl::Time now);

  size_t size() const { return entries_.size(); }
  const CacheLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::shared_ptr<const DnsAnswer> answer;
    absl::Time stored;
    absl::Time expires;
  };
  void MakeRoom(absl::Time now);

  CacheLimits limits_;
  absl::flat_hash_map<CacheKey, Entry> entries_;
};

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_DNS_CACHE_H_
