#include "lib/dns/dns_cache.h"

#include <algorithm>

namespace sipresolver::dns {

absl::Duration CacheTtl(const DnsAnswer& answer, const CacheLimits& limits) {
  if (answer.empty() && !answer.dangling_cname()) {
    absl::Duration ttl = answer.negative_ttl
                             ? absl::Seconds(*answer.negative_ttl)
                             : limits.default_negative_ttl;
    return std::min(ttl, limits.max_negative_ttl);
  }
  return std::clamp(absl::Seconds(answer.min_ttl), limits.min_ttl,
                    limits.max_ttl);
}

std::optional<DnsCache::Hit> DnsCache::Lookup(const CacheKey& key,
                                              absl::Time now) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.expires) return std::nullopt;
  return Hit{it->second.answer, it->second.expires - now, false};
}

std::optional<DnsCache::Hit> DnsCache::LookupStale(const CacheKey& key,
                                                   absl::Time now) const {
  if (auto fresh = Lookup(key, now)) return fresh;
  auto it = entries_.find(key);
  if (it == entries_.end() || now > it->second.expires + limits_.max_stale) {
    return std::nullopt;
  }
  return Hit{it->second.answer, absl::ZeroDuration(), true};
}

void DnsCache::Set(const CacheKey& key, std::shared_ptr<const DnsAnswer> answer,
                   absl::Time now) {
  const absl::Time expires = now + CacheTtl(*answer, limits_);
  if (!entries_.contains(key)) MakeRoom(now);
  entries_[key] = Entry{std::move(answer), expires};
}

void DnsCache::MakeRoom(absl::Time now) {
  if (entries_.size() < limits_.max_entries) return;
  absl::erase_if(entries_, [&](const auto& kv) {
    return now > kv.second.expires + limits_.max_stale;
  });
  while (!entries_.empty() && entries_.size() >= limits_.max_entries) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a.second.expires < b.second.expires;
        });
    entries_.erase(oldest);
  }
}

}  // namespace sipresolver::dns
