// DecisionEngine: the redundancy state machine of one device (rules S1-S11,
// N2), for one profile and one candidate order (the order SpreadOrder gives an
// agent; engines are cheap, so a watcher may keep one per agent).
//
// Deterministic and passive: it never reads a clock, draws a random number or
// starts a timer. Inputs are the candidate list, endpoint health changes and
// the time, all passed in; the owner calls Advance(now) at next_wakeup(). The
// same inputs always give the same decisions, so the whole behaviour is
// unit-tested on simulated time.
//
// How the rules are read where the device guide is silent:
//  - S6: the search walks the list in order. A candidate whose health is still
//    UNKNOWN is one the device is still trying, so a healthy candidate behind
//    it is not chosen yet (kSearching).
//  - S7: once every candidate failed, the break is taken in full: health
//    changes and new candidate lists during it are remembered but do not end
//    it early (a device does not watch servers while it pauses). Each break
//    publishes its own next_search.
//  - S8/S9: fallback checks tick every interval from the moment the server
//    was chosen (re-based on the actual time when a check runs late), like
//    the device's periodic timer, and switch to the FIRST HEALTHY fallback
//    candidate. A higher-priority server that recovers between ticks waits
//    for the next tick (anti-flap: at most one fallback per interval). A
//    tick with an empty fallback list checks nothing and wakes nobody; a list
//    that appears later (DNS change, primary moved up) is checked at the
//    next tick of the same grid.
//  - S9: the secondary search has no break: with no secondary, the first
//    eligible candidate (priority >= the primary's, not the primary) that is
//    HEALTHY with every eligible one before it UNHEALTHY is taken at once.
//    When the primary moves up (S8) a still-eligible secondary is kept.
//  - S10/S11: a primary that fails or disappears from DNS promotes the
//    secondary at once; without one the search restarts from the top. A
//    kept primary or secondary is matched by endpoint (address, port), and
//    takes the new candidate's fields (priority, weight, ttl).
//  - S1/S4/S5 (redundancy does not apply): the first candidate is the primary
//    whatever its health; nothing is scheduled.
//  - Health is remembered per endpoint, candidate or not, so SetHealth may
//    come before or after the SetCandidates that lists the endpoint.
//
// Fail static (fail_static.h) is applied to every decision the rules make
// with redundancy on; the registration it keeps is the engine's: what the
// device said it registers with, then each confirmed decision's servers.
//
// Not thread-safe: owned and called by one thread (the watcher's loop).
#ifndef SIPRESOLVER_LIB_DECISION_DECISION_ENGINE_H_
#define SIPRESOLVER_LIB_DECISION_DECISION_ENGINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "lib/decision/decision.h"
#include "lib/decision/fail_static.h"
#include "lib/decision/profile.h"
#include "lib/health/health_state.h"
#include "lib/sip/prober.h"

namespace sipresolver::decision {

struct EngineOptions {
  // S7's "short break" before the search runs again. At least 1 s.
  absl::Duration search_break = absl::Seconds(30);
};

class DecisionEngine {
 public:
  // `profile` should have passed ValidateProfile; the check intervals and the
  // break are clamped to [1 s, 1 day] regardless, so that a bad value can
  // never make the owner spin.
  // `registered`: what the device registers with already (it reconnected,
  // e.g. from another replica). Once every candidate has a first verdict,
  // the first search keeps those servers as primary and secondary if they
  // are candidates not known to fail, instead of searching, as a device
  // keeps a registration that works; the S8/S9 checks tick from then.
  DecisionEngine(Profile profile, EngineOptions options = {},
                 Registration registered = {});

  // Each returns true when the decision changed (decision().version went up
  // by one). `now` must not go backwards between calls.

  // A new candidate list in the order the device tries it (S11), e.g. after a
  // DNS renewal. An empty list means DNS produced none.
  bool SetCandidates(std::vector<dns::Candidate> candidates, absl::Time now);
  // The health of one endpoint changed (or was first learned): the state
  // decisions use (HealthTracker's decision_state) and the device evidence.
  bool SetHealth(const sip::Endpoint& endpoint, health::HealthState state,
                 absl::Time now, EndpointEvidence evidence = {});
  // The service suspects (or no longer suspects) its own probe path.
  bool SetProbePathSuspect(bool suspect, absl::Time now);
  // Time-driven work due at `now`: fallback checks (S8/S9) and the search
  // after a break (S7). Harmless to call early or often.
  bool Advance(absl::Time now);

  // When Advance has work next; InfiniteFuture when nothing is scheduled.
  absl::Time next_wakeup() const;
  // Valid until the next SetCandidates/SetHealth/Advance call.
  const Decision& decision() const { return decision_; }

  // The endpoint a candidate is probed and registered at.
  sip::Endpoint EndpointOf(const dns::Candidate& candidate) const;
  bool redundancy_applies() const { return redundancy_; }

 private:
  struct Known {
    health::HealthState state = health::HealthState::kUnknown;
    EndpointEvidence evidence;
  };
  const Known& KnownAt(size_t i) const;
  health::HealthState HealthAt(size_t i) const { return KnownAt(i).state; }
  std::optional<size_t> IndexOf(const std::optional<sip::Endpoint>& e) const;
  bool SecondaryEligible(size_t i) const;  // Of the current primary.
  bool EligibleAsSecondaryOf(size_t i, size_t primary) const;
  std::vector<size_t> PrimaryFallback() const;
  std::vector<size_t> SecondaryFallback() const;

  void SearchPrimary(absl::Time now);
  // The first search's keeping of `registered_`: true when the primary was
  // kept or is waited for.
  bool KeepRegistered(absl::Time now);
  void ChoosePrimary(size_t i, absl::Time now);
  void PrimaryLost(absl::Time now, const std::string& why);
  void SearchSecondary(absl::Time now);
  void SkipIdleChecks(absl::Time now);
  void CheckPrimaryFallback(absl::Time now);
  void CheckSecondaryFallback(absl::Time now);

  Decision Build() const;
  // The rules' decision, before fail static.
  Decision BuildRules() const;
  std::string RedundancyOffReason() const;
  void Note(std::string reason) { reasons_.push_back(std::move(reason)); }
  // Builds the decision; when it differs, bumps the version and sets the
  // reason from the notes of this call. Clears the notes.
  bool Publish();

  const Profile profile_;
  const bool redundancy_;
  const bool secondary_applies_;  // S9: secondary registration + redundancy.
  const absl::Duration primary_interval_;
  const absl::Duration secondary_interval_;
  const absl::Duration search_break_;

  bool have_candidates_ = false;
  std::vector<dns::Candidate> candidates_;
  absl::flat_hash_map<sip::Endpoint, Known> health_;
  bool probe_path_suspect_ = false;
  // What the device registers with: from the constructor, then the
  // primary and secondary of each confirmed decision published.
  Registration registered_;
  // The first search has not yet decided whether it keeps `registered_`.
  bool first_search_ = true;

  // Redundancy state; primary_/secondary_ index candidates_.
  DecisionState state_ = DecisionState::kSearching;
  std::optional<size_t> primary_;
  std::optional<size_t> secondary_;
  absl::Time primary_check_ = absl::InfiniteFuture();    // S8.
  absl::Time secondary_check_ = absl::InfiniteFuture();  // S9.
  absl::Time search_at_ = absl::InfiniteFuture();        // S7.

  std::vector<std::string> reasons_;
  Decision decision_;
};

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_LIB_DECISION_DECISION_ENGINE_H_
