// The fail-static layer of DecisionEngine (see the header): what is
// published when the service cannot stand behind the rules' own decision.
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/decision/decision_engine.h"

namespace sipresolver::decision {

bool DecisionEngine::FailStatic() const {
  if (!have_candidates_ || candidates_.empty()) return false;
  if (state_ == DecisionState::kNoWorkingServer) {
    // S7 stands when devices confirm what the probes say.
    for (size_t i = 0; i < candidates_.size(); ++i) {
      if (KnownAt(i).evidence.devices_confirm_failure) return false;
    }
    return true;
  }
  return probe_path_suspect_;
}

// The device's own choice: keep what the last confirmed decision gave, else
// take the candidates in order (S6 without health, S9's eligibility).
void DecisionEngine::BuildUnconfirmed(Decision& d) const {
  d.state = DecisionState::kActive;
  d.assurance = Assurance::kUnconfirmed;
  d.next_search = absl::InfiniteFuture();
  d.primary_fallback.clear();
  d.secondary_fallback.clear();
  d.secondary.reset();
  const size_t p = IndexOf(held_primary_).value_or(0);
  d.primary = candidates_[p];
  d.primary_health = HealthAt(p);
  std::optional<size_t> s = IndexOf(held_secondary_);
  if (!s || !EligibleAsSecondaryOf(*s, p)) {
    s.reset();
    for (size_t i = 0; i < candidates_.size() && !s; ++i) {
      if (EligibleAsSecondaryOf(i, p)) s = i;
    }
  }
  if (s) d.secondary = candidates_[*s];
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].priority < candidates_[p].priority) {
      d.primary_fallback.push_back(candidates_[i]);
    }
  }
}

std::string DecisionEngine::FailStaticReason() const {
  return absl::StrCat(
      probe_path_suspect_ ? "the service's probes fail for most servers of "
                            "several domains, so it "
                            "suspects its own probe path (panic threshold)"
                          : "no candidate answers the service's probes and no "
                            "quorum of devices "
                            "confirms a failure",
      ": unconfirmed, this is what the device would do by itself; keep a "
      "registration that works (fail static)");
}

}  // namespace sipresolver::decision
