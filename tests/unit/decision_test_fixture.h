// DecisionEngineFixture: the shared set-up of the decision engine's unit tests
// (decision_engine_test.cc, decision_secondary_test.cc,
// decision_candidates_test.cc). It offers SRV candidates, the usual profiles
// and a DecisionEngine on a SimulatedClock, moved through time the way its
// owner's timer would move it. Each test file derives its own fixture (so test
// names keep naming the rules: S9_..., S11_...) and says which profile and
// candidate list Start() uses by default.
#ifndef SIPRESOLVER_TESTS_UNIT_DECISION_TEST_FIXTURE_H_
#define SIPRESOLVER_TESTS_UNIT_DECISION_TEST_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "lib/decision/decision_engine.h"

namespace sipresolver::decision {

// An SRV candidate "sipN.itsp.test" (N: the address's last octet) on port 5060,
// TTL 300 s.
inline dns::Candidate Srv(const std::string& address, uint16_t priority,
                          uint16_t weight = 10) {
  return dns::Candidate{
      "sip" + address.substr(address.rfind('.') + 1) + ".itsp.test",
      address,
      5060,
      priority,
      weight,
      dns::CandidateSource::kSrv,
      absl::Seconds(300)};
}

// One server at each of priorities 10, 20 and 30, in that order.
inline const dns::Candidate kA = Srv("192.0.2.1", 10);
inline const dns::Candidate kB = Srv("192.0.2.2", 20);
inline const dns::Candidate kC = Srv("192.0.2.3", 30);

// proxy_server "itsp.test" with X_ProxyServerRedundancy on.
inline Profile Redundant() {
  Profile p;
  p.proxy_server = "itsp.test";
  p.proxy_server_redundancy = true;
  return p;
}

// Redundant() with secondary registration (S9/S10) on.
inline Profile Dual() {
  Profile p = Redundant();
  p.secondary_registration = true;
  return p;
}

class DecisionEngineFixture : public ::testing::Test {
 protected:
  // Start() without arguments uses `default_profile`, Start(profile) uses
  // `default_candidates`.
  DecisionEngineFixture(Profile default_profile,
                        std::vector<dns::Candidate> default_candidates)
      : default_profile_(std::move(default_profile)),
        default_candidates_(std::move(default_candidates)) {}

  // A new engine for `profile` (with options_) and `candidates` as its first
  // DNS answer, at the simulated now.
  DecisionEngine& Start(Profile profile,
                        std::vector<dns::Candidate> candidates) {
    engine_ = std::make_unique<DecisionEngine>(std::move(profile), options_);
    engine_->SetCandidates(std::move(candidates), Now());
    return *engine_;
  }
  DecisionEngine& Start(Profile profile) {
    return Start(std::move(profile), default_candidates_);
  }
  DecisionEngine& Start() { return Start(default_profile_); }

  absl::Time Now() const { return clock_.Now(); }
  // The prober's verdict on `c`'s endpoint (a failure confirmed by devices
  // when devices_confirm_), true if the decision changed.
  bool Set(const dns::Candidate& c, health::HealthState s) {
    EndpointEvidence evidence;
    evidence.devices_confirm_failure =
        devices_confirm_ && s == health::HealthState::kUnhealthy;
    return engine_->SetHealth(engine_->EndpointOf(c), s, Now(), evidence);
  }
  // A DNS renewal answering `list`; true if the decision changed.
  bool Dns(std::vector<dns::Candidate> list) {
    return engine_->SetCandidates(std::move(list), Now());
  }

  const Decision& D() const { return engine_->decision(); }
  std::string Primary() const {
    return D().primary ? D().primary->address : "none";
  }
  std::string Secondary() const {
    return D().secondary ? D().secondary->address : "none";
  }

  // Moves time like the owner's timer would: Advance at every wakeup.
  void RunFor(absl::Duration d) {
    const absl::Time end = Now() + d;
    for (int i = 0; i < 10000 && engine_->next_wakeup() <= end; ++i) {
      clock_.Advance(engine_->next_wakeup() - Now());
      engine_->Advance(Now());
    }
    clock_.Advance(end - Now());
  }

  SimulatedClock clock_;
  EngineOptions options_;  // Used by the next Start().
  // Devices confirm every failure Set() reports: S7 tests need it, since
  // without it the engine fails static instead of giving kNoWorkingServer.
  bool devices_confirm_ = false;
  std::unique_ptr<DecisionEngine> engine_;

 private:
  const Profile default_profile_;
  const std::vector<dns::Candidate> default_candidates_;
};

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_TESTS_UNIT_DECISION_TEST_FIXTURE_H_
