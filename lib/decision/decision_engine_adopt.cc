// DecisionEngine's adoption of what a reconnecting device registers with
// (see Adopt in the header): the first search keeps those servers instead of
// searching, once every candidate has a verdict.
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/decision/decision_engine.h"

namespace sipresolver::decision {

using health::HealthState;

void DecisionEngine::Adopt(std::optional<sip::Endpoint> primary,
                           std::optional<sip::Endpoint> secondary) {
  if (have_candidates_) return;
  adopt_primary_ = std::move(primary);
  adopt_secondary_ = std::move(secondary);
}

bool DecisionEngine::TakeAdopted(absl::Time now) {
  const std::optional<size_t> p = IndexOf(adopt_primary_);
  if (p && HealthAt(*p) != HealthState::kUnhealthy) {
    // One decision, not one now and another as verdicts come in (each a
    // hook run): wait for every candidate's first verdict, as a fresh
    // search would for the ones it walks past.
    for (size_t i = 0; i < candidates_.size(); ++i) {
      if (HealthAt(i) != HealthState::kUnknown) continue;
      state_ = DecisionState::kSearching;
      Note(absl::StrCat("searching: waiting for ",
                        DescribeCandidate(candidates_[i]),
                        " before keeping the agent's primary (S6)"));
      return true;
    }
  }
  const std::optional<sip::Endpoint> secondary =
      std::exchange(adopt_secondary_, {});
  adopt_primary_.reset();
  if (!p || HealthAt(*p) == HealthState::kUnhealthy) return false;
  Note(absl::StrCat("primary ", DescribeCandidate(candidates_[*p]),
                    ": the one the agent registers with, kept"));
  const std::optional<size_t> s = IndexOf(secondary);
  if (secondary_applies_ && s && *s != *p && EligibleAsSecondaryOf(*s, *p) &&
      HealthAt(*s) != HealthState::kUnhealthy) {
    secondary_ = s;
    secondary_check_ = now + secondary_interval_;
    Note(absl::StrCat("secondary ", DescribeCandidate(candidates_[*s]),
                      ": the one the agent registers with, kept"));
  }
  ChoosePrimary(*p, now);
  return true;
}

}  // namespace sipresolver::decision
