#include "server/resolve_snapshots.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sipresolver::server {

std::string ResolveSnapshots::Key(const dns::ServerSpec& spec) {
  return absl::StrCat(
      spec.server, "|", spec.port, "|", static_cast<int>(spec.transport), "|",
      static_cast<int>(spec.ip_version), "|", spec.redundancy ? 1 : 0);
}

std::shared_ptr<const v1::ResolveResponse> ResolveSnapshots::Find(
    const dns::ServerSpec& spec, absl::Time now) const {
  if (max_age_ <= absl::ZeroDuration()) return nullptr;
  const std::string key = Key(spec);
  absl::ReaderMutexLock lock(&mu_);
  auto it = snapshots_.find(key);
  if (it == snapshots_.end() || now >= it->second.expires) return nullptr;
  return it->second.response;
}

void ResolveSnapshots::Put(const dns::ServerSpec& spec,
                           const v1::ResolveResponse& response,
                           absl::Time now) {
  if (max_age_ <= absl::ZeroDuration() || max_entries_ == 0) return;
  absl::Duration age = max_age_;
  for (const v1::Candidate& c : response.candidates())
    age = std::min(age, absl::Seconds(c.ttl_seconds()));
  if (age <= absl::ZeroDuration()) return;
  auto snapshot = std::make_shared<const v1::ResolveResponse>(response);
  std::string key = Key(spec);
  absl::MutexLock lock(&mu_);
  if (snapshots_.size() >= max_entries_ && !snapshots_.contains(key)) {
    absl::erase_if(snapshots_,
                   [now](const auto& kv) { return now >= kv.second.expires; });
    if (snapshots_.size() >= max_entries_) return;
  }
  snapshots_.insert_or_assign(std::move(key),
                              Snapshot{std::move(snapshot), now + age});
}

}  // namespace sipresolver::server
