#include "lib/dns/dns_cache.h"

#include <algorithm>

namespace sipresolver::dns {

absl::Duration CacheTtl(const DnsAnswer& answer, const CacheLimits& limits) {
  if (answer.empty() && !answer.dangling_cname()) {
    absl::Duration ttl = answer.negative_ttl
                             ? absl::Seconds(*answer.negative_ttl)
                             : limits.default_negative_ttl;
    ttl = std::min(ttl, limits.max_negative_ttl);
    // Reached through CNAMEs: the negative TTL is the target's (RFC 2308);
    // the alias may point elsewhere once its own TTL is up, as when the
    // server stops at the CNAME and the target is looked up apart.
    if (!answer.cname_chain.empty())
      ttl = std::min(ttl, absl::Seconds(answer.min_ttl));
    return ttl;
  }
  return std::clamp(absl::Seconds(answer.min_ttl), limits.min_ttl,
                    limits.max_ttl);
}

std::optional<DnsCache::Hit> DnsCache::Lookup(const CacheKey& key,
                                              absl::Time now) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.expires) return std::nullopt;
  return Hit{it->second.answer, it->second.expires - now, false,
             now - it->second.stored};
}

std::optional<DnsCache::Hit> DnsCache::LookupStale(const CacheKey& key,
                                                   absl::Time now) const {
  if (auto fresh = Lookup(key, now)) return fresh;
  auto it = entries_.find(key);
  if (it == entries_.end() || now > it->second.expires + limits_.max_stale) {
    return std::nullopt;
  }
  return Hit{it->second.answer, absl::ZeroDuration(), true,
             now - it->second.stored};
}

void DnsCache::Set(const CacheKey& key, std::shared_ptr<const DnsAnswer> answer,
                   absl::Time now) {
  const absl::Time expires = now + CacheTtl(*answer, limits_);
  if (!entries_.contains(key)) MakeRoom(now);
  entries_[key] = Entry{std::move(answer), now, expires};
}

void DnsCache::MakeRoom(absl::Time now) {
  if (entries_.size() < limits_.max_entries) return;
  absl::erase_if(entries_, [&](const auto& kv) {
    return now > kv.second.expires + limits_.max_stale;
  });
  while (!entries_.empty() && entries_.size() >= limits_.max_entries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.second.expires < b.second.expires;
                                   });
    entries_.erase(oldest);
  }
}

}  // namespace sipresolver::dns
