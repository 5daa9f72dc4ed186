#include "lib/decision/decision_engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sipresolver::decision {
namespace {

using health::HealthState;

absl::Duration Clamp(absl::Duration d) {
  return std::clamp(d, kMinCheckInterval, kMaxCheckInterval);
}

std::string Fmt(absl::Duration d) { return absl::FormatDuration(d); }

// The first tick of the period grid through `tick` that is not before `now`.
absl::Time NextTick(absl::Time tick, absl::Duration period, absl::Time now) {
  if (tick >= now) return tick;
  absl::Duration rest;
  const absl::Time t =
      tick + absl::IDivDuration(now - tick, period, &rest) * period;
  return t < now ? t + period : t;
}

std::string Count(size_t n) {
  return absl::StrCat(n, n == 1 ? " candidate" : " candidates");
}

}  // namespace

DecisionEngine::DecisionEngine(Profile profile, EngineOptions options,
                               Registration registered)
    : profile_(std::move(profile)),
      redundancy_(RedundancyApplies(profile_)),
      secondary_applies_(redundancy_ && profile_.secondary_registration),
      primary_interval_(Clamp(profile_.check_primary_fallback_interval)),
      secondary_interval_(Clamp(profile_.check_secondary_fallback_interval)),
      search_break_(Clamp(options.search_break)),
      registered_(std::move(registered)) {
  decision_ = Build();
  decision_.reason = "waiting for the candidate list (DNS)";
}

sip::Endpoint DecisionEngine::EndpointOf(const dns::Candidate& c) const {
  return sip::Endpoint{c.address, c.port, profile_.transport};
}

const DecisionEngine::Known& DecisionEngine::KnownAt(size_t i) const {
  static const Known kUnknown;
  auto it = health_.find(EndpointOf(candidates_[i]));
  return it == health_.end() ? kUnknown : it->second;
}

std::optional<size_t> DecisionEngine::IndexOf(
    const std::optional<sip::Endpoint>& e) const {
  if (!e) return std::nullopt;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (EndpointOf(candidates_[i]) == *e) return i;
  }
  return std::nullopt;
}

// S9: priority lower or equal to the primary's, and not the primary itself
// (compared by endpoint: DNS may list one address under two names).
bool DecisionEngine::SecondaryEligible(size_t i) const {
  return primary_ && EligibleAsSecondaryOf(i, *primary_);
}

bool DecisionEngine::EligibleAsSecondaryOf(size_t i, size_t primary) const {
  return secondary_applies_ &&
         EligibleAsSecondary(candidates_[i], EndpointOf(candidates_[i]),
                             candidates_[primary],
                             EndpointOf(candidates_[primary]));
}

std::vector<size_t> DecisionEngine::PrimaryFallback() const {
  std::vector<size_t> out;
  if (!primary_) return out;
  const dns::Candidate& p = candidates_[*primary_];
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].priority < p.priority &&
        EndpointOf(candidates_[i]) != EndpointOf(p)) {
      out.push_back(i);
    }
  }
  return out;
}

std::vector<size_t> DecisionEngine::SecondaryFallback() const {
  std::vector<size_t> out;
  if (!secondary_) return out;
  const dns::Candidate& s = candidates_[*secondary_];
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (SecondaryEligible(i) && candidates_[i].priority < s.priority)
      out.push_back(i);
  }
  return out;
}

// S6/S7: from the top, skipping candidates known to fail.
void DecisionEngine::SearchPrimary(absl::Time now) {
  primary_.reset();
  secondary_.reset();
  if (first_search_ && KeepRegistered(now)) return;  // Kept or waiting.
  first_search_ = false;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    switch (HealthAt(i)) {
      case HealthState::kUnhealthy:
        continue;
      case HealthState::kHealthy:
        Note(absl::StrCat("primary ", DescribeCandidate(candidates_[i]),
                          ": first working candidate in order (S6)"));
        return ChoosePrimary(i, now);
      case HealthState::kUnknown:
        state_ = DecisionState::kSearching;
        Note(absl::StrCat("searching: waiting for ",
                          DescribeCandidate(candidates_[i]),
                          ", the first candidate not known to fail (S6)"));
        return;
    }
  }
  state_ = DecisionState::kNoWorkingServer;
  search_at_ = now + search_break_;
  Note(absl::StrCat(
      candidates_.empty()
          ? "no candidates"
          : absl::StrCat("all ", Count(candidates_.size()), " failed"),
      "; searching again in ", Fmt(search_break_), " (S7)"));
}

// A reconnecting device keeps what it registers with (see the constructor).
bool DecisionEngine::KeepRegistered(absl::Time now) {
  const std::optional<size_t> p = IndexOf(registered_.primary);
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
  first_search_ = false;
  if (!p || HealthAt(*p) == HealthState::kUnhealthy) return false;
  Note(absl::StrCat("primary ", DescribeCandidate(candidates_[*p]),
                    ": the one the agent registers with, kept"));
  const std::optional<size_t> s = IndexOf(registered_.secondary);
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

void DecisionEngine::ChoosePrimary(size_t i, absl::Time now) {
  state_ = DecisionState::kActive;
  primary_ = i;
  primary_check_ = now + primary_interval_;
  if (secondary_ && !SecondaryEligible(*secondary_)) secondary_.reset();
  if (!secondary_) SearchSecondary(now);
}

// S10, or a new S6 search when there is no secondary to promote.
void DecisionEngine::PrimaryLost(absl::Time now, const std::string& why) {
  if (secondary_) {
    const size_t promoted = *secondary_;
    secondary_.reset();
    Note(absl::StrCat(why, "; secondary ",
                      DescribeCandidate(candidates_[promoted]),
                      " promoted to primary (S10)"));
    return ChoosePrimary(promoted, now);
  }
  Note(absl::StrCat(why, "; searching again from the top (S6)"));
  SearchPrimary(now);
}

// S9: the S6 search over the eligible candidates; nothing when one before
// the first healthy is still unknown (search pending) or all failed.
void DecisionEngine::SearchSecondary(absl::Time now) {
  if (!secondary_applies_ || !primary_ || secondary_) return;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (!SecondaryEligible(i)) continue;
    const HealthState h = HealthAt(i);
    if (h == HealthState::kUnhealthy) continue;
    if (h == HealthState::kHealthy) {
      secondary_ = i;
      secondary_check_ = now + secondary_interval_;
      Note(absl::StrCat(
          "secondary ", DescribeCandidate(candidates_[i]),
          ": first working candidate of lower or equal priority (S9)"));
    }
    return;
  }
}

// A periodic check due while its fallback list was empty checked nothing;
// move it to the next tick that is still ahead, as the device's timer would
// have ticked. Keeps the grid without waking the owner for nothing.
void DecisionEngine::SkipIdleChecks(absl::Time now) {
  if (primary_ && PrimaryFallback().empty()) {
    primary_check_ = NextTick(primary_check_, primary_interval_, now);
  }
  if (secondary_ && SecondaryFallback().empty()) {
    secondary_check_ = NextTick(secondary_check_, secondary_interval_, now);
  }
}

// S8: not faster than the interval, whatever happened in between.
void DecisionEngine::CheckPrimaryFallback(absl::Time now) {
  primary_check_ = now + primary_interval_;
  for (size_t i : PrimaryFallback()) {
    if (HealthAt(i) != HealthState::kHealthy) continue;
    Note(absl::StrCat("fell back to higher-priority ",
                      DescribeCandidate(candidates_[i]), " from ",
                      DescribeCandidate(candidates_[*primary_]), " at the ",
                      Fmt(primary_interval_), " check (S8)"));
    return ChoosePrimary(i, now);
  }
}

void DecisionEngine::CheckSecondaryFallback(absl::Time now) {
  secondary_check_ = now + secondary_interval_;
  for (size_t i : SecondaryFallback()) {
    if (HealthAt(i) != HealthState::kHealthy) continue;
    Note(absl::StrCat("secondary fell back to higher-priority ",
                      DescribeCandidate(candidates_[i]), " from ",
                      DescribeCandidate(candidates_[*secondary_]), " at the ",
                      Fmt(secondary_interval_), " check (S9)"));
    secondary_ = i;
    return;
  }
}

bool DecisionEngine::SetCandidates(std::vector<dns::Candidate> candidates,
                                   absl::Time now) {
  SkipIdleChecks(now);
  const bool same_endpoints =
      have_candidates_ && candidates.size() == candidates_.size() &&
      std::equal(candidates.begin(), candidates.end(), candidates_.begin(),
                 [&](const dns::Candidate& a, const dns::Candidate& b) {
                   return EndpointOf(a) == EndpointOf(b) &&
                          a.priority == b.priority;
                 });
  if (!have_candidates_) {
    Note(absl::StrCat("DNS gave ", Count(candidates.size())));
  } else if (!same_endpoints) {
    Note(absl::StrCat("DNS candidates changed: ", candidates_.size(), " -> ",
                      candidates.size(), " (S11)"));
  } else {
    Note("DNS renewal refreshed candidate details (S11)");
  }
  std::optional<sip::Endpoint> old_primary, old_secondary;
  if (primary_) old_primary = EndpointOf(candidates_[*primary_]);
  if (secondary_) old_secondary = EndpointOf(candidates_[*secondary_]);

  have_candidates_ = true;
  candidates_ = std::move(candidates);
  // Re-find the chosen servers by endpoint: they take the new fields.
  primary_ = IndexOf(old_primary);
  secondary_ = IndexOf(old_secondary);
  if (!redundancy_) return Publish();

  switch (state_) {
    case DecisionState::kNoWorkingServer:
      Note("still taking the break; the next search uses the new list (S7)");
      break;
    case DecisionState::kSearching:
      SearchPrimary(now);
      break;
    case DecisionState::kActive:
      if (!primary_) {
        PrimaryLost(now,
                    absl::StrCat("primary ", old_primary->address, ":",
                                 old_primary->port, " is no longer in DNS"));
        break;
      }
      if (secondary_ && !SecondaryEligible(*secondary_)) {
        Note(absl::StrCat("secondary ",
                          DescribeCandidate(candidates_[*secondary_]),
                          " now has a higher priority than the primary (S9)"));
        secondary_.reset();
      } else if (old_secondary && !secondary_) {
        Note(absl::StrCat("secondary ", old_secondary->address, ":",
                          old_secondary->port, " is no longer in DNS"));
      }
      if (!secondary_) SearchSecondary(now);
      break;
  }
  return Publish();
}

bool DecisionEngine::SetHealth(const sip::Endpoint& endpoint, HealthState state,
                               absl::Time now, EndpointEvidence evidence) {
  Known& known = health_[endpoint];
  if (known.state == state && known.evidence == evidence) return false;
  const bool state_changed = known.state != state;
  known = Known{state, evidence};
  // Before the first list there is nothing to search: an empty search now
  // would start an S7 break the first list then had to wait out.
  if (!have_candidates_) return false;
  // Only the evidence changed: the assurance or fail static may have.
  if (!redundancy_ || !state_changed) return Publish();
  SkipIdleChecks(now);

  const std::string what = absl::StrCat(endpoint.address, ":", endpoint.port,
                                        " is ", health::HealthStateName(state));
  switch (state_) {
    case DecisionState::kNoWorkingServer:
      break;  // S7: the break is not cut short; the next search uses this.
    case DecisionState::kSearching:
      SearchPrimary(now);
      break;
    case DecisionState::kActive:
      if (EndpointOf(candidates_[*primary_]) == endpoint) {
        if (state == HealthState::kUnhealthy) {
          PrimaryLost(now, absl::StrCat("primary ", what));
        } else {
          Note(absl::StrCat("primary ", what));
        }
      } else if (secondary_ &&
                 EndpointOf(candidates_[*secondary_]) == endpoint &&
                 state == HealthState::kUnhealthy) {
        Note(absl::StrCat("secondary ", what,
                          "; searching a new secondary (S9)"));
        secondary_.reset();
        SearchSecondary(now);
      } else if (!secondary_) {
        SearchSecondary(now);  // A pending S9 search may complete.
      }
      break;
  }
  return Publish();
}

bool DecisionEngine::SetProbePathSuspect(bool suspect, absl::Time now) {
  if (suspect == probe_path_suspect_) return false;
  probe_path_suspect_ = suspect;
  SkipIdleChecks(now);
  if (!suspect) Note("probes recovered: decisions confirmed by probes again");
  return Publish();
}

bool DecisionEngine::Advance(absl::Time now) {
  if (!redundancy_) return false;
  SkipIdleChecks(now);
  if (state_ == DecisionState::kNoWorkingServer && now >= search_at_) {
    Note("break over: searching again in the same order (S7)");
    SearchPrimary(now);
  } else if (state_ == DecisionState::kActive) {
    if (now >= primary_check_) CheckPrimaryFallback(now);
    if (secondary_ && now >= secondary_check_) CheckSecondaryFallback(now);
  }
  return Publish();
}

absl::Time DecisionEngine::next_wakeup() const {
  if (!redundancy_) return absl::InfiniteFuture();
  if (state_ == DecisionState::kNoWorkingServer) return search_at_;
  absl::Time t = absl::InfiniteFuture();
  if (state_ == DecisionState::kActive) {
    // A check with nothing to check is not worth a wakeup (SkipIdleChecks).
    if (!PrimaryFallback().empty()) t = std::min(t, primary_check_);
    if (!SecondaryFallback().empty()) t = std::min(t, secondary_check_);
  }
  return t;
}

}  // namespace sipresolver::decision
