#include "lib/decision/fail_static.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sipresolver::decision {
namespace {

bool Applies(const Decision& rules,
             const std::vector<CandidateHealth>& health) {
  if (rules.candidates.empty()) return false;
  if (rules.state == DecisionState::kNoWorkingServer) {
    // S7 stands when devices confirm what the probes say.
    for (const CandidateHealth& h : health) {
      if (h.evidence.devices_confirm_failure) return false;
    }
    return true;
  }
  return rules.probe_path_suspect;
}

std::optional<size_t> IndexOf(const std::vector<CandidateHealth>& health,
                              const std::optional<sip::Endpoint>& e) {
  if (!e) return std::nullopt;
  for (size_t i = 0; i < health.size(); ++i) {
    if (health[i].endpoint == *e) return i;
  }
  return std::nullopt;
}

}  // namespace

// The device's own choice: keep what it registers with, else take the
// candidates in order (S6 without health, S9's eligibility).
Decision ApplyFailStatic(Decision rules,
                         const std::vector<CandidateHealth>& health,
                         const Registration& registered,
                         bool secondary_applies) {
  if (!Applies(rules, health)) return rules;
  Decision d = std::move(rules);
  const std::vector<dns::Candidate>& candidates = d.candidates;
  auto eligible = [&](size_t i, size_t p) {
    return secondary_applies &&
           EligibleAsSecondary(candidates[i], health[i].endpoint, candidates[p],
                               health[p].endpoint);
  };
  d.state = DecisionState::kActive;
  d.assurance = Assurance::kUnconfirmed;
  d.next_search = absl::InfiniteFuture();
  d.primary_fallback.clear();
  d.secondary_fallback.clear();
  d.secondary.reset();
  const size_t p = IndexOf(health, registered.primary).value_or(0);
  d.primary = candidates[p];
  d.primary_health = health[p].state;
  std::optional<size_t> s = IndexOf(health, registered.secondary);
  if (!s || !eligible(*s, p)) {
    s.reset();
    for (size_t i = 0; i < candidates.size() && !s; ++i) {
      if (eligible(i, p)) s = i;
    }
  }
  if (s) d.secondary = candidates[*s];
  for (const dns::Candidate& c : candidates) {
    if (c.priority < candidates[p].priority) d.primary_fallback.push_back(c);
  }
  return d;
}

std::string FailStaticReason(bool probe_path_suspect) {
  return absl::StrCat(
      probe_path_suspect ? "the service's probes fail for most servers of "
                           "several domains, so it "
                           "suspects its own probe path (panic threshold)"
                         : "no candidate answers the service's probes and no "
                           "quorum of devices "
                           "confirms a failure",
      ": unconfirmed, this is what the device would do by itself; keep a "
      "registration that works (fail static)");
}

}  // namespace sipresolver::decision
