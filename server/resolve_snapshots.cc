#include "server/resolve_snapshots.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace sipresolver::server {
namespace {

bool FromSrv(const v1::Candidate& c) {
  return c.source() == v1::CANDIDATE_SOURCE_SRV ||
         c.source() == v1::CANDIDATE_SOURCE_SRV_SIP_UDP;
}

// Both addresses of one SRV record's target: the resolver lists a record's
// addresses together.
bool SameSrvRecord(const v1::Candidate& a, const v1::Candidate& b) {
  return a.target() == b.target() && a.port() == b.port() &&
         a.priority() == b.priority() && a.weight() == b.weight();
}

}  // namespace

std::string ResolveSnapshots::Key(const dns::ServerSpec& spec) {
  return absl::StrCat(
      spec.server, "|", spec.port, "|", static_cast<int>(spec.transport), "|",
      static_cast<int>(spec.ip_version), "|", spec.redundancy ? 1 : 0);
}

std::shared_ptr<const ResolveSnapshots::Resolution> ResolveSnapshots::Split(
    const v1::ResolveResponse& resolved) {
  auto r = std::make_shared<Resolution>();
  *r->lookups.mutable_lookups() = resolved.lookups();
  const bool srv =
      !resolved.candidates().empty() && FromSrv(resolved.candidates(0));
  for (const v1::Candidate& c : resolved.candidates()) {
    if (!srv || r->groups.empty() ||
        !SameSrvRecord(r->groups.back().front(), c)) {
      r->groups.emplace_back();
      if (srv) {
        r->ranks.push_back({static_cast<uint16_t>(c.priority()),
                            static_cast<uint16_t>(c.weight())});
      }
    }
    r->groups.back().push_back(c);
  }
  return r;
}

bool ResolveSnapshots::Answer(const dns::ServerSpec& spec, absl::Time now,
                              v1::ResolveResponse& response) const {
  if (max_age_ <= absl::ZeroDuration()) return false;
  const std::string key = Key(spec);
  std::shared_ptr<const Resolution> r;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = snapshots_.find(key);
    if (it == snapshots_.end() || now >= it->second.expires) return false;
    r = it->second.resolution;
  }
  std::vector<size_t> order;
  if (r->ranks.empty()) {
    order.resize(r->groups.size());
    std::iota(order.begin(), order.end(), 0);
  } else {
    order = dns::DrawSrvOrder(r->ranks, random_);
  }
  response = r->lookups;
  for (size_t group : order) {
    for (const v1::Candidate& c : r->groups[group]) {
      *response.add_candidates() = c;
      if (!spec.redundancy) return true;  // S4: the first address only.
    }
  }
  return true;
}

void ResolveSnapshots::Put(const dns::ServerSpec& spec,
                           const v1::ResolveResponse& resolved,
                           absl::Time now) {
  if (max_age_ <= absl::ZeroDuration() || max_entries_ == 0) return;
  absl::Duration age = max_age_;
  for (const v1::Candidate& c : resolved.candidates())
    age = std::min(age, absl::Seconds(c.ttl_seconds()));
  if (age <= absl::ZeroDuration()) return;
  std::shared_ptr<const Resolution> resolution = Split(resolved);
  std::string key = Key(spec);
  absl::MutexLock lock(&mu_);
  if (snapshots_.size() >= max_entries_ && !snapshots_.contains(key)) {
    absl::erase_if(snapshots_,
                   [now](const auto& kv) { return now >= kv.second.expires; });
    if (snapshots_.size() >= max_entries_) return;
  }
  snapshots_.insert_or_assign(std::move(key),
                              Snapshot{std::move(resolution), now + age});
}

}  // namespace sipresolver::server
