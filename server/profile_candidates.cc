#include "server/profile_candidates.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::server {

ProfileCandidates::ProfileCandidates(const WatcherContext& context,
                                     const decision::Profile& profile,
                                     OnUpdate on_update)
    : context_(context),
      profile_(profile),
      target_(decision::TargetOf(profile_)),
      on_update_(std::move(on_update)) {}

ProfileCandidates::~ProfileCandidates() {
  *alive_ = false;
  candidates_.clear();
  Repin();
}

bool ProfileCandidates::Pins(const sip::Endpoint& endpoint) const {
  return std::find(pinned_.begin(), pinned_.end(), endpoint) != pinned_.end();
}

void ProfileCandidates::Resolve() {
  dns::ServerSpec spec;
  spec.server = target_.server;
  spec.port = target_.port;
  spec.transport = profile_.transport;
  spec.ip_version = profile_.ip_version;
  spec.redundancy = decision::RedundancyApplies(profile_);
  context_.resolver.Resolve(
      spec,
      [this, alive = alive_](const absl::Status& status, dns::Resolution r) {
        if (*alive) OnResolved(status, std::move(r));
      });
}

void ProfileCandidates::OnResolved(const absl::Status& status,
                                   dns::Resolution resolution) {
  absl::Duration next = context_.options.dns_retry;
  std::vector<sip::Endpoint> added;
  if (status.ok()) {
    dns_error_.clear();
    candidates_ = std::move(resolution.candidates);
    absl::Duration ttl = context_.options.max_refresh;
    for (const dns::Candidate& c : candidates_) ttl = std::min(ttl, c.ttl);
    next = std::max(ttl, context_.options.min_refresh);
    added = Repin();
  } else {
    // Keep the last candidates: their decisions stay valid.
    dns_error_ = std::string(status.message());
  }
  resolved_ = true;
  if (!refused_.ok()) {
    // No more renewals: the refusal stands until this profile's watcher
    // goes; a new one looks again.
    refresh_.reset();
  } else {
    refresh_ = context_.timers.After(next, [this] { Resolve(); });
  }
  on_update_(added, status.ok());
}

// An endpoint the health tracker refuses is never probed and refuses the
// profile, which then pins nothing (its probes would serve no one).
std::vector<sip::Endpoint> ProfileCandidates::Repin() {
  const std::string domain =
      dns::ParseIpLiteral(target_.server) ? "" : target_.server;
  std::vector<sip::Endpoint> wanted;
  for (const dns::Candidate& c : candidates_) {
    sip::Endpoint e{c.address, c.port, profile_.transport};
    if (std::find(wanted.begin(), wanted.end(), e) == wanted.end())
      wanted.push_back(e);
  }
  std::vector<sip::Endpoint> added;
  for (const sip::Endpoint& e : wanted) {
    if (Pins(e)) continue;
    if (absl::Status s = context_.health.Pin(e, domain); !s.ok()) {
      context_.metrics.OnProbeTargetRefused(s.code());
      if (refused_.ok()) {
        refused_ = absl::Status(
            s.code(), absl::StrCat("no decision for ", target_.server, ": ",
                                   s.message()));
      }
      continue;
    }
    pinned_.push_back(e);
    added.push_back(e);
  }
  if (!refused_.ok()) {
    wanted.clear();
    added.clear();
  }
  for (auto it = pinned_.begin(); it != pinned_.end();) {
    if (std::find(wanted.begin(), wanted.end(), *it) == wanted.end()) {
      context_.health.Unpin(*it);
      it = pinned_.erase(it);
    } else {
      ++it;
    }
  }
  return added;
}

std::string ProfileCandidates::ReasonFor(
    const decision::Decision& decision) const {
  if (decision.version == 0) {  // Nothing decided yet: say why.
    return !resolved_            ? absl::StrCat("resolving ", target_.server)
           : !dns_error_.empty() ? absl::StrCat("DNS: ", dns_error_)
                                 : "waiting for the first probe results";
  }
  if (candidates_.empty() && !dns_error_.empty()) {
    // "No candidates" alone would hide what the lookups found.
    return absl::StrCat("DNS: ", dns_error_, "; ", decision.reason);
  }
  return decision.reason;
}

}  // namespace sipresolver::server
