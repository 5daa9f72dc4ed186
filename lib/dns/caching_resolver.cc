#include "lib/dns/caching_resolver.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sipresolver::dns {

absl::string_view CacheResultName(CacheResult result) {
  switch (result) {
    case CacheResult::kHit:
      return "hit";
    case CacheResult::kMiss:
      return "miss";
    case CacheResult::kStale:
      return "stale";
  }
  return "unknown";
}

absl::string_view UpstreamOutcome(const absl::StatusOr<DnsAnswer>& result) {
  if (result.ok()) {
    if (!result->empty() || result->dangling_cname()) return "answer";
    return result->rcode == kRcodeNxDomain ? "nxdomain" : "nodata";
  }
  switch (result.status().code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInvalidArgument:
      return "malformed";
    default:
      return "error";
  }
}

CachingResolver::CachingResolver(DnsTransport& transport, const Clock& clock,
                                 const CacheLimits& limits,
                                 DnsObserver* observer)
    : transport_(transport),
      clock_(clock),
      observer_(observer ? observer : &null_observer_),
      cache_(limits) {}

void CachingResolver::Query(const std::string& name, RecordType type,
                            Callback done) {
  CacheKey key(name, type);
  if (auto hit = cache_.Lookup(key, clock_.Now())) {
    observer_->OnCacheLookup(type, CacheResult::kHit);
    done(QueryResult{absl::OkStatus(), hit->answer, hit->remaining_ttl,
                     /*from_cache=*/true, /*stale=*/false, hit->age});
    return;
  }
  observer_->OnCacheLookup(type, CacheResult::kMiss);
  auto [job, created] = jobs_.try_emplace(key);
  job->second.push_back(std::move(done));
  if (!created) {
    observer_->OnJoinedInFlight(type);
    return;
  }
  transport_.Query(name, type, [this, key](absl::StatusOr<DnsAnswer> result) {
    Complete(key, std::move(result));
  });
}

void CachingResolver::Complete(const CacheKey& key,
                               absl::StatusOr<DnsAnswer> result) {
  auto node = jobs_.extract(key);
  if (node.empty()) return;
  std::vector<Callback> waiters = std::move(node.mapped());
  const absl::Time now = clock_.Now();
  observer_->OnUpstreamQuery(key.second, UpstreamOutcome(result));

  QueryResult out;
  if (result.ok()) {
    auto answer = std::make_shared<const DnsAnswer>(*std::move(result));
    cache_.Set(key, answer, now);
    out = QueryResult{absl::OkStatus(), answer,
                      CacheTtl(*answer, cache_.limits())};
  } else if (auto stale = cache_.LookupStale(key, now)) {
    observer_->OnCacheLookup(key.second, CacheResult::kStale);
    out = QueryResult{absl::OkStatus(),    stale->answer, stale->remaining_ttl,
                      /*from_cache=*/true, stale->stale,  stale->age};
  } else {
    out.status = absl::UnavailableError(
        absl::StrCat("DNS ", RecordTypeName(key.second), " ", key.first, ": ",
                     result.status().message()));
  }
  for (Callback& waiter : waiters) waiter(out);
}

}  // namespace sipresolver::dns
