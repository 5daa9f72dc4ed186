// Fail static (never worse than the device alone): one pure step after the
// rules, rules' decision + evidence + what the device registers with ->
// the decision published.
//
// The rules (DecisionEngine) run on the health they are given, but when
// they end in S7 (every candidate fails) while no quorum of devices
// confirms a failure, or while the service suspects its own probe path, the
// published decision is the device's own: kActive with
// Assurance::kUnconfirmed, the primary and secondary the device registers
// with (a registration that works is never dropped on the service's word
// alone), else the first candidates in order. S7's kNoWorkingServer is
// published only when devices confirm a failure.
#ifndef SIPRESOLVER_LIB_DECISION_FAIL_STATIC_H_
#define SIPRESOLVER_LIB_DECISION_FAIL_STATIC_H_

#include <string>
#include <vector>

#include "lib/decision/decision.h"
#include "lib/health/health_state.h"
#include "lib/sip/prober.h"

namespace sipresolver::decision {

// What the service knows of an endpoint besides the health it decides on.
struct EndpointEvidence {
  bool by_devices = false;  // HEALTHY only through device reports.
  bool devices_confirm_failure = false;
  bool operator==(const EndpointEvidence& o) const {
    return by_devices == o.by_devices &&
           devices_confirm_failure == o.devices_confirm_failure;
  }
};

// One candidate of a decision as the service knows it.
struct CandidateHealth {
  sip::Endpoint endpoint;  // Where the candidate is probed and registered.
  health::HealthState state = health::HealthState::kUnknown;
  EndpointEvidence evidence;
};

// `rules` with redundancy on, as the rules decided it; `health[i]` describes
// rules.candidates[i]. Returns `rules` unless fail static applies, else the
// device's own decision (the reason is FailStaticReason's to give).
Decision ApplyFailStatic(Decision rules,
                         const std::vector<CandidateHealth>& health,
                         const Registration& registered,
                         bool secondary_applies);

// Why a decision is kUnconfirmed, for its reason.
std::string FailStaticReason(bool probe_path_suspect);

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_LIB_DECISION_FAIL_STATIC_H_
