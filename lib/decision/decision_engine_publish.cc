// What DecisionEngine publishes (see the header): the rules' view of its
// state, fail static applied after it, N2's keep-alive target, and a new
// version with its reason when anything a device acts on changed.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/decision/decision_engine.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::decision {

using health::HealthState;

std::string DecisionEngine::RedundancyOffReason() const {
  std::string why;
  if (!profile_.proxy_server_redundancy) {
    why = "X_ProxyServerRedundancy is off (S4)";
  } else if (!profile_.registration_enabled) {
    why = "registration is disabled (S1)";
  } else {
    why = "the server is an IP address (S5)";
  }
  if (!have_candidates_)
    return absl::StrCat("redundancy off: ", why, "; waiting for DNS");
  if (candidates_.empty())
    return absl::StrCat("redundancy off: ", why, "; DNS gave no candidate");
  return absl::StrCat("redundancy off: ", why, "; the device uses ",
                      DescribeCandidate(candidates_[0]),
                      " whatever its health (now ",
                      health::HealthStateName(HealthAt(0)), ")");
}

Decision DecisionEngine::Build() const {
  Decision d = BuildRules();
  if (redundancy_) {
    std::vector<CandidateHealth> health;
    health.reserve(candidates_.size());
    for (size_t i = 0; i < candidates_.size(); ++i) {
      const Known& known = KnownAt(i);
      health.push_back(
          {EndpointOf(candidates_[i]), known.state, known.evidence});
    }
    d = ApplyFailStatic(std::move(d), health, registered_, secondary_applies_);
  }
  // N2: the configured keep-alive server, else where REGISTER goes.
  if (profile_.keep_alive_enable) {
    if (!profile_.keep_alive_server.empty()) {
      KeepAliveTarget k;
      k.host = CanonicalServer(profile_.keep_alive_server);
      k.address = dns::ParseIpLiteral(k.host).value_or("");
      k.port = profile_.keep_alive_port != 0
                   ? static_cast<uint16_t>(profile_.keep_alive_port)
                   : dns::DefaultPort(profile_.transport);
      d.keep_alive = std::move(k);
    } else if (d.primary) {
      d.keep_alive = KeepAliveTarget{d.primary->target, d.primary->address,
                                     d.primary->port};
    }
  }
  return d;
}

Decision DecisionEngine::BuildRules() const {
  Decision d;
  d.candidates = candidates_;
  std::optional<size_t> primary = primary_;
  if (!redundancy_) {
    // S4: one candidate, no switching, no search schedule.
    if (!have_candidates_) {
      d.state = DecisionState::kSearching;
    } else if (candidates_.empty()) {
      d.state = DecisionState::kNoWorkingServer;
    } else {
      d.state = DecisionState::kActive;
      primary = 0;
    }
  } else {
    d.state = state_;
    if (state_ == DecisionState::kNoWorkingServer) d.next_search = search_at_;
    if (secondary_) d.secondary = candidates_[*secondary_];
    for (size_t i : PrimaryFallback())
      d.primary_fallback.push_back(candidates_[i]);
    for (size_t i : SecondaryFallback())
      d.secondary_fallback.push_back(candidates_[i]);
  }
  d.probe_path_suspect = probe_path_suspect_;
  if (primary) {
    d.primary = candidates_[*primary];
    const Known& known = KnownAt(*primary);
    d.primary_health = known.state;
    d.assurance = known.state != HealthState::kHealthy ? Assurance::kUnconfirmed
                  : known.evidence.by_devices ? Assurance::kDeviceReports
                                              : Assurance::kProbes;
  }
  return d;
}

bool DecisionEngine::Publish() {
  Decision next = Build();
  std::vector<std::string> reasons = std::move(reasons_);
  reasons_.clear();
  if (SameContent(next, decision_)) return false;
  if (next.state == DecisionState::kActive &&
      next.assurance != Assurance::kUnconfirmed) {
    registered_.primary = EndpointOf(*next.primary);
    registered_.secondary.reset();
    if (next.secondary) registered_.secondary = EndpointOf(*next.secondary);
  }
  if (redundancy_ && next.assurance == Assurance::kUnconfirmed) {
    reasons.push_back(FailStaticReason(probe_path_suspect_));
  }
  if (!redundancy_) reasons.push_back(RedundancyOffReason());
  next.version = decision_.version + 1;
  next.reason =
      reasons.empty() ? "decision updated" : absl::StrJoin(reasons, "; ");
  decision_ = std::move(next);
  return true;
}

}  // namespace sipresolver::decision
