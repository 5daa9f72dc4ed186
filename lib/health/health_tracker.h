// HealthTracker: the health of every SIP endpoint someone needs, found out
// by probing it (S1, S6), shared by everything that uses the endpoint.
//
// An endpoint is needed while it is pinned (a decision watcher uses it) and
// for `idle_timeout` after it was last pinned or touched; after that it is
// dropped and no longer probed. Each endpoint is probed once per
// interval (NextProbeDelay). A probe unanswered after the endpoint's own
// RTO (RtoEstimator, learned from its answers) is a miss; a miss that
// leaves a HEALTHY endpoint HEALTHY is confirmed at once by as many new
// probes as misses are still needed to mark it down, so one lost datagram
// costs a few probes, not an interval, and a dead server is down within
// about two RTOs of the probe that found it. Follow-ups happen only after
// a miss: the steady cost stays one probe per interval. An answer after
// the RTO (within the probe timeout) still counts: the server is alive
// (it backs the RTO off instead of being a sample).
// Every probe passes the operator's ProbePolicy (allowlist) when the
// endpoint is added and the global rate limit before it is sent.
//
// Fail static: the probes' verdict is evidence, not truth. Registration
// outcomes agents report (DeviceEvidence) sit beside it: a quorum of devices
// registering with an endpoint whose probes fail makes it count as working
// for decisions (decision_state), and never the other way round. When most
// probed endpoints of several domains fail at once, the tracker suspects
// its own probe path (Envoy's panic threshold) and says so.
// Loop thread only.
#ifndef SIPRESOLVER_LIB_HEALTH_HEALTH_TRACKER_H_
#define SIPRESOLVER_LIB_HEALTH_HEALTH_TRACKER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/core/clock.h"
#include "lib/core/random.h"
#include "lib/core/timer.h"
#include "lib/health/credentials.h"
#include "lib/health/device_evidence.h"
#include "lib/health/health_state.h"
#include "lib/health/panic_detector.h"
#include "lib/health/probe_assignment.h"
#include "lib/health/probe_policy.h"
#include "lib/health/rate_limiter.h"
#include "lib/health/rto_estimator.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

struct HealthOptions {
  Intervals intervals;
  Thresholds thresholds;
  // A probe unanswered after its endpoint's RTO is a miss (a timeout
  // verdict); max_rto is the prober's timeout, which ends the transaction.
  // An answer that comes after the RTO but within the timeout still counts.
  RtoOptions rto;
  AcceptedCodes accepted;
  bool use_options = false;  // Probe with OPTIONS instead of REGISTER.
  absl::Duration register_expires = absl::Seconds(60);
  absl::Duration idle_timeout = absl::Minutes(10);
  size_t max_endpoints = 1000;
  // Bounds what one name's DNS can make us probe. IP literals (domain "")
  // name their one address themselves: only max_endpoints bounds them.
  size_t max_endpoints_per_domain = 32;
  double ewma_weight = 0.3;  // Weight of the newest latency sample.
  EvidenceOptions evidence;
  // Panic (PanicDetector): fewer than this share of the settled (healthy or
  // unhealthy) endpoints healthy by probes, with the failing ones spread
  // over at least `panic_min_domains` names (an IP literal is a name of its
  // own). One ITSP's outage never looks like a broken probe path. 0 turns
  // it off.
  double panic_threshold = 0.5;
  int panic_min_domains = 2;
};

struct EndpointStatus {
  sip::Endpoint endpoint;
  std::set<std::string> domains;  // Names whose resolution included it.
  Counters counters;              // The probes' verdict.
  // Reports since the probes' last state change, within the window.
  DeviceTally devices;
  // What decisions use: the probes' state, except HEALTHY while the probes
  // fail and at least a quorum of devices registers here.
  HealthState decision_state = HealthState::kUnknown;
  // The probes fail and a quorum of devices confirms it.
  bool devices_confirm_failure = false;
  absl::Duration last_latency;
  absl::Duration latency_ewma;
  // How long the next probe may take before a miss (the estimator's).
  absl::Duration rto;
  int last_response_code = 0;
  std::string last_error;
  absl::Time last_change;  // Of state; Clock time.
  std::optional<std::string> via_received;
  std::optional<uint16_t> via_rport;
  uint64_t probes = 0;
};

// What one replica's probes found about an endpoint, as the other replicas
// take it over when they share probing.
struct SharedHealth {
  // Only the progress toward leaving the state (failures while HEALTHY,
  // successes while UNHEALTHY; the other is 0), so that a steady
  // endpoint's counters stop changing: nothing new to share.
  Counters counters;
  int last_response_code = 0;
  std::string last_error;
  absl::Duration latency;  // Of the last answer; zero if none yet.

  // Whether the others would decide differently (latency and wording
  // aside).
  bool SameVerdict(const SharedHealth& o) const {
    return counters.state == o.counters.state &&
           counters.consecutive_successes == o.counters.consecutive_successes &&
           counters.consecutive_failures == o.counters.consecutive_failures &&
           last_response_code == o.last_response_code;
  }
};

// Counts for metrics and events for the log. Called on the loop thread.
class HealthObserver {
 public:
  virtual ~HealthObserver() = default;
  // After every change of an endpoint's state, decision_state or
  // devices_confirm_failure (what the listener hears); `probe_before` is the
  // probes' state before it.
  virtual void OnChange(const EndpointStatus& status,
                        HealthState probe_before) {}
  // method "REGISTER"/"OPTIONS"; outcome "success", "failure" (error reply),
  // "timeout", "network_error".
  virtual void OnProbe(absl::string_view method, absl::string_view outcome,
                       absl::Duration latency) {}
  virtual void OnTransition(HealthState from, HealthState to) {}
  virtual void OnEndpointCount(HealthState state, int count) {}
  // Endpoints whose probes fail while devices report registering there:
  // `with_quorum` of them count as working for decisions, `without` do not.
  virtual void OnDisputedCount(int with_quorum, int without) {}
  // healthy_ratio: share of settled endpoints healthy by probes (1 if none).
  virtual void OnProbePath(bool suspect, double healthy_ratio) {}
};

class HealthTracker {
 public:
  // Everything passed by reference must outlive the tracker.
  HealthTracker(sip::Prober& prober, TimerFactory& timers, const Clock& clock,
                Random& random, ProbePolicy policy, RateLimiter rate_limiter,
                CredentialStore credentials, const HealthOptions& options,
                HealthObserver* observer);
  ~HealthTracker();

  // Marks `endpoint` as needed for `domain` (the configured name it came
  // from; empty for IP literals) and starts probing it if it is new.
  // PERMISSION_DENIED when the policy refuses it (no packet is ever sent);
  // RESOURCE_EXHAUSTED past the endpoint caps.
  absl::Status Touch(const sip::Endpoint& endpoint, const std::string& domain);

  // Touch, and keep the endpoint probed until as many Unpin calls: a
  // watcher's endpoints never idle out while it exists.
  absl::Status Pin(const sip::Endpoint& endpoint, const std::string& domain);
  // Counts from now toward idle_timeout once the last pin is gone.
  void Unpin(const sip::Endpoint& endpoint);

  // Probe `endpoint` now instead of at its next turn (an agent reported a
  // failed registration with it). False when it is not tracked or a probe is
  // already in flight. The global rate limit still applies.
  bool ProbeSoon(const sip::Endpoint& endpoint);

  // An agent registered (or failed to) with `endpoint`. Ignored unless the
  // endpoint is tracked: reports never make the service probe anything.
  // A failure only schedules a probe soon (ProbeSoon); it never marks an
  // endpoint down (the device's own network may be at fault). Returns
  // whether a probe was scheduled.
  bool ReportRegistration(const sip::Endpoint& endpoint, Reporter reporter,
                          bool registered);

  // Probe credentials from the next probe on (the file changed).
  void SetCredentials(CredentialStore credentials) {
    credentials_ = std::move(credentials);
  }

  // Called after every change of an endpoint's state, decision_state or
  // devices_confirm_failure. One listener.
  using Listener = std::function<void(const EndpointStatus& status)>;
  void SetListener(Listener listener) { listener_ = std::move(listener); }
  // Called when probe_path_suspect() changes. One listener.
  using PanicListener = std::function<void(bool suspect)>;
  void SetPanicListener(PanicListener listener) {
    panic_listener_ = std::move(listener);
  }
  // Most probed endpoints of several names fail at once: the service's own
  // probe path (egress, a ban) is more likely broken than all those servers.
  bool probe_path_suspect() const { return suspect_; }
  // Share of the endpoints with a verdict that the probes find healthy.
  double probe_healthy_ratio() const { return healthy_ratio_; }

  // Sharing probes with other replicas (ENGINEERING.md, "Many replicas").
  // With an assignment, the regular probes of an endpoint go out only at
  // this replica's turns; a miss is still confirmed at once by the replica
  // that saw it. Null (the default): every endpoint, every interval. It
  // must outlive the tracker or be reset first.
  void SetAssignment(ProbeAssignment* assignment) { assignment_ = assignment; }
  // The assignment changed: each endpoint's next probe moves to its new
  // turn (or to none).
  void Reassign();
  // Health another replica's probes found, taken over as if this replica's
  // own probes had found it: state, progress toward the thresholds, the
  // last answer. Ignored for endpoints not tracked.
  void AdoptShared(const sip::Endpoint& endpoint, const SharedHealth& shared);
  // Called after a result of this replica's own probes that changed what
  // the others should know (SharedHealth::SameVerdict). One listener.
  using ProbedListener =
      std::function<void(const sip::Endpoint&, const SharedHealth&)>;
  void SetProbedListener(ProbedListener listener) {
    probed_listener_ = std::move(listener);
  }
  // Called when an endpoint starts being tracked (with the name it was
  // first needed for) and when it is dropped (tracked false). One listener.
  using TrackedListener = std::function<void(
      const sip::Endpoint&, const std::string& domain, bool tracked)>;
  void SetTrackedListener(TrackedListener listener) {
    tracked_listener_ = std::move(listener);
  }

  // Device evidence shared the same way: reports this replica's agents made
  // about an endpoint whose probes fail (what fail static weighs), each
  // time they change, and an empty list once the probes no longer fail.
  // One listener.
  using EvidenceListener = std::function<void(
      const sip::Endpoint&, const std::vector<SharedReport>& reports)>;
  void SetEvidenceListener(EvidenceListener listener) {
    evidence_listener_ = std::move(listener);
  }
  // What replica `source`'s agents reported about `endpoint` (its
  // EvidenceListener's list; empty: none any more). Counts toward the
  // quorum with this replica's own reports. Ignored for endpoints not
  // tracked.
  void AdoptEvidence(const sip::Endpoint& endpoint, const std::string& source,
                     const std::vector<SharedReport>& reports);

  std::optional<EndpointStatus> Get(const sip::Endpoint& endpoint) const;
  std::vector<EndpointStatus> List() const;  // Ordered by endpoint.
  const ProbePolicy& policy() const { return policy_; }

 private:
  struct Tracked;
  void Schedule(Tracked& t, absl::Duration delay);
  // Sends the endpoint's next probe, or while confirming a miss every
  // probe still needed to mark it down.
  void StartProbe(const sip::Endpoint& endpoint);
  void SendProbe(Tracked& t);
  void OnResult(const sip::Endpoint& endpoint, uint64_t probe,
                bool had_credentials, const sip::ProbeResult& result);
  // The probe's RTO passed without an answer: a miss.
  void OnOverdue(const sip::Endpoint& endpoint, uint64_t probe);
  // Counts a miss; the probe is already out of the outstanding ones.
  void OnMiss(Tracked& t);
  void ApplyVerdict(Tracked& t, Verdict verdict);
  // Sets the probes' counters (a verdict applied, or adopted from another
  // replica) and evaluates what follows.
  void SetCounters(Tracked& t, const Counters& counters);
  // When the endpoint's next probe is due: its regular delay, or with an
  // assignment this replica's next turn (an interval away if it has none:
  // a look at whether the endpoint idled out).
  absl::Duration NextDelay(const Tracked& t);
  SharedHealth Shareable(const Tracked& t) const;
  // Tells the evidence listener what this replica's agents reported about
  // the endpoint while its probes fail (nothing once they do not).
  void ShareEvidence(const Tracked& t);
  // Recomputes decision_state from the counters and the device evidence;
  // updates the counts and notifies the observer and listener on a change.
  // `probe_before`: the probes' state before the result that led here.
  void Evaluate(Tracked& t, HealthState probe_before);
  void ReportCounts();

  sip::Prober& prober_;
  TimerFactory& timers_;
  const Clock& clock_;
  Random& random_;
  const ProbePolicy policy_;
  RateLimiter rate_limiter_;
  CredentialStore credentials_;
  const HealthOptions options_;
  HealthObserver* observer_;
  HealthObserver null_observer_;
  std::map<sip::Endpoint, std::unique_ptr<Tracked>> endpoints_;
  std::map<std::string, int> endpoints_per_domain_;
  DeviceEvidence evidence_;
  PanicDetector panic_;
  Listener listener_;
  PanicListener panic_listener_;
  ProbeAssignment* assignment_ = nullptr;
  ProbedListener probed_listener_;
  TrackedListener tracked_listener_;
  EvidenceListener evidence_listener_;
  // panic_'s verdict as of the last ReportCounts (what listeners heard).
  bool suspect_ = false;
  double healthy_ratio_ = 1.0;
  uint64_t next_probe_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_HEALTH_TRACKER_H_
