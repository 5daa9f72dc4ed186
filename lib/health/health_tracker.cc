#include "lib/health/health_tracker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sipresolver::health {

struct HealthTracker::Tracked {
  // One SIP probe (transaction) that has not reported its final result.
  struct Probe {
    absl::Time sent;
    std::unique_ptr<Timer> overdue;  // Fires at the RTO.
    bool missed = false;             // The RTO passed; counted as a miss.
    // Its round ended with another probe's answer: its own result changes
    // nothing (it is only counted, once, for the metrics).
    bool abandoned = false;
  };
  explicit Tracked(const RtoOptions& rto_options) : rto(rto_options) {}
  // Probes whose RTO has not passed yet.
  int Outstanding() const {
    int n = 0;
    for (const auto& [id, p] : in_flight) n += p.missed || p.abandoned ? 0 : 1;
    return n;
  }

  // The status as callers see it, with the RTO read from the estimator.
  EndpointStatus Snapshot() const {
    EndpointStatus s = status;
    s.rto = rto.rto();
    return s;
  }

  EndpointStatus status;  // Its rto is filled in by Snapshot() only.
  absl::Time last_touch;
  int pins = 0;
  std::unique_ptr<Timer> next_probe;
  RtoEstimator rto;
  // The last verdict shared with other replicas or taken over from them.
  std::optional<SharedHealth> shared;
  std::map<uint64_t, Probe> in_flight;
};

namespace {

absl::string_view OutcomeName(const sip::ProbeResult& r, Verdict v) {
  switch (r.outcome) {
    case sip::ProbeResult::Outcome::kTimeout:
      return "timeout";
    case sip::ProbeResult::Outcome::kNetworkError:
      return "network_error";
    case sip::ProbeResult::Outcome::kResponse:
      break;
  }
  return v == Verdict::kSuccess ? "success" : "failure";
}

}  // namespace

HealthTracker::HealthTracker(sip::Prober& prober, TimerFactory& timers,
                             const Clock& clock, Random& random,
                             ProbePolicy policy, RateLimiter rate_limiter,
                             CredentialStore credentials,
                             const HealthOptions& options,
                             HealthObserver* observer)
    : prober_(prober),
      timers_(timers),
      clock_(clock),
      random_(random),
      policy_(std::move(policy)),
      rate_limiter_(rate_limiter),
      credentials_(std::move(credentials)),
      options_(options),
      observer_(observer ? observer : &null_observer_),
      evidence_(options.evidence),
      panic_(options.panic_threshold, options.panic_min_domains) {}

// Probes still in flight report into a tracker that is gone: `alive_` tells.
HealthTracker::~HealthTracker() { *alive_ = false; }

absl::Status HealthTracker::Touch(const sip::Endpoint& endpoint,
                                  const std::string& domain) {
  const absl::Time now = clock_.Now();
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) {
    if (absl::Status allowed =
            policy_.Check(endpoint.address, domain, endpoint.port);
        !allowed.ok()) {
      return allowed;
    }
    if (endpoints_.size() >= options_.max_endpoints) {
      return absl::ResourceExhaustedError(
          absl::StrCat("already probing ", endpoints_.size(),
                       " endpoints (the limit, --probe_max_endpoints)"));
    }
    if (!domain.empty() &&
        endpoints_per_domain_[domain] >=
            static_cast<int>(options_.max_endpoints_per_domain)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "already probing ", options_.max_endpoints_per_domain,
          " endpoints for ", domain,
          " (the limit per domain, --probe_max_endpoints_per_domain)"));
    }
    auto tracked = std::make_unique<Tracked>(options_.rto);
    tracked->status.endpoint = endpoint;
    tracked->status.last_change = now;
    it = endpoints_.emplace(endpoint, std::move(tracked)).first;
    // Before the first probe: an assignment counts this replica among
    // those that need the endpoint from now on.
    if (tracked_listener_) tracked_listener_(endpoint, domain, true);
    Schedule(*it->second, absl::ZeroDuration());
    ReportCounts();
  }
  Tracked& t = *it->second;
  t.last_touch = now;
  if (t.status.domains.insert(domain).second) {
    ++endpoints_per_domain_[domain];
    panic_.AddDomain(endpoint, domain);
  }
  return absl::OkStatus();
}

absl::Status HealthTracker::Pin(const sip::Endpoint& endpoint,
                                const std::string& domain) {
  absl::Status touched = Touch(endpoint, domain);
  if (touched.ok()) ++endpoints_[endpoint]->pins;
  return touched;
}

void HealthTracker::Unpin(const sip::Endpoint& endpoint) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end() || it->second->pins == 0) return;
  --it->second->pins;
  it->second->last_touch = clock_.Now();
}

bool HealthTracker::ProbeSoon(const sip::Endpoint& endpoint) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end() || it->second->Outstanding() > 0) return false;
  Schedule(*it->second, absl::ZeroDuration());
  return true;
}

std::optional<EndpointStatus> HealthTracker::Get(const sip::Endpoint& e) const {
  auto it = endpoints_.find(e);
  if (it == endpoints_.end()) return std::nullopt;
  return it->second->Snapshot();
}

std::vector<EndpointStatus> HealthTracker::List() const {
  std::vector<EndpointStatus> out;
  out.reserve(endpoints_.size());
  for (const auto& [endpoint, t] : endpoints_) out.push_back(t->Snapshot());
  return out;
}

void HealthTracker::Schedule(Tracked& t, absl::Duration delay) {
  t.next_probe = timers_.After(
      delay, [this, endpoint = t.status.endpoint] { StartProbe(endpoint); });
}

void HealthTracker::StartProbe(const sip::Endpoint& endpoint) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Tracked& t = *it->second;
  const absl::Time now = clock_.Now();
  if (t.pins == 0 &&
      now - t.last_touch >= options_.idle_timeout) {  // Unneeded.
    for (const std::string& d : t.status.domains) --endpoints_per_domain_[d];
    evidence_.Forget(endpoint);
    panic_.Remove(endpoint);
    endpoints_.erase(it);
    ReportCounts();
    if (tracked_listener_) tracked_listener_(endpoint, "", false);
    return;
  }
  if (assignment_ != nullptr && !assignment_->NextTurnIn(endpoint)) {
    // Another replica probes it; its health arrives through AdoptShared.
    return Schedule(t, options_.intervals.interval);
  }
  // Confirming a miss: every probe still needed at once, so a dead server
  // is down one RTO after the miss, not one RTO per missing answer.
  const Counters& c = t.status.counters;
  int count = 1;
  if (c.state == HealthState::kHealthy && c.consecutive_failures > 0) {
    count = std::max(1, options_.thresholds.unhealthy - c.consecutive_failures -
                            t.Outstanding());
  }
  for (int i = 0; i < count; ++i) {
    if (!rate_limiter_.TryAcquire(now)) {
      return Schedule(t, rate_limiter_.TimeUntilAvailable(now));
    }
    SendProbe(t);
  }
}

void HealthTracker::SendProbe(Tracked& t) {
  const sip::Endpoint& endpoint = t.status.endpoint;
  // Credentials belong to the configured name; the first one that has them.
  sip::ProbeRequest request;
  request.endpoint = endpoint;
  request.use_options = options_.use_options;
  request.register_expires = options_.register_expires;
  request.domain = t.status.domains.empty() ? "" : *t.status.domains.begin();
  for (const std::string& d : t.status.domains) {
    if (auto c = credentials_.Find(d)) {
      request.domain = d;
      request.credentials = std::move(c);
      break;
    }
  }
  if (request.domain.empty()) request.domain = endpoint.address;  // IP literal.
  const bool had_credentials = request.credentials.has_value();
  const uint64_t id = next_probe_id_++;
  Tracked::Probe& probe = t.in_flight[id];
  probe.sent = clock_.Now();
  probe.overdue = timers_.After(
      t.rto.rto(), [this, endpoint, id] { OnOverdue(endpoint, id); });
  prober_.Probe(request, [this, alive = alive_, endpoint, id,
                          had_credentials](const sip::ProbeResult& result) {
    if (*alive) OnResult(endpoint, id, had_credentials, result);
  });
}

void HealthTracker::OnOverdue(const sip::Endpoint& endpoint, uint64_t id) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Tracked& t = *it->second;
  auto probe = t.in_flight.find(id);
  if (probe == t.in_flight.end() || probe->second.missed ||
      probe->second.abandoned) {
    return;
  }
  probe->second.missed = true;
  probe->second.overdue.reset();
  OnMiss(t);
}

void HealthTracker::OnMiss(Tracked& t) {
  // Counted as a timeout now; a late answer is not counted again.
  observer_->OnProbe(options_.use_options ? "OPTIONS" : "REGISTER", "timeout",
                     t.rto.rto());
  EndpointStatus& s = t.status;
  ++s.probes;
  s.last_response_code = 0;
  s.last_error = absl::StrCat("no answer within ",
                              absl::FormatDuration(t.rto.rto()), " (RTO)");
  ApplyVerdict(t, Verdict::kFailure);
  if (s.counters.state == HealthState::kHealthy) {
    // Confirm: the follow-ups go out after edge_interval (0: at once).
    const int needed =
        options_.thresholds.unhealthy - s.counters.consecutive_failures;
    if (t.Outstanding() < needed) Schedule(t, options_.intervals.edge_interval);
    return;
  }
  // Down (or still down): no answers to learn from, so wait longer next
  // time (RFC 6298 5.5); the next scheduled probe decides.
  t.rto.Backoff();
  if (t.Outstanding() == 0) Schedule(t, NextDelay(t));
}

void HealthTracker::OnResult(const sip::Endpoint& endpoint, uint64_t id,
                             bool had_credentials,
                             const sip::ProbeResult& result) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Tracked& t = *it->second;
  auto node = t.in_flight.extract(id);
  if (node.empty()) return;
  const Tracked::Probe probe = std::move(node.mapped());
  const Verdict verdict = Classify(result, had_credentials, options_.accepted);
  const bool timeout = result.outcome == sip::ProbeResult::Outcome::kTimeout;
  if (timeout && !probe.missed && !probe.abandoned) {
    // Normally already a miss at its RTO (never above the timeout); if the
    // timers fired in the other order, it is one now.
    return OnMiss(t);
  }
  if (!probe.missed) {  // Each probe is counted once.
    observer_->OnProbe(options_.use_options ? "OPTIONS" : "REGISTER",
                       OutcomeName(result, verdict), result.latency);
  }
  if (timeout || probe.abandoned) return;

  EndpointStatus& s = t.status;
  if (!probe.missed) ++s.probes;
  s.last_response_code = result.status_code;
  s.last_error = result.error;
  if (result.outcome == sip::ProbeResult::Outcome::kResponse) {
    // Each probe is its own transaction, so an answer in time is an
    // unambiguous sample. A late one says the server is alive, not how long
    // the path takes (it may have sat in a stopped server's socket): like
    // Karn's rule, no sample, but the RTO was too short: back off.
    if (probe.missed) {
      t.rto.Backoff();
    } else {
      t.rto.Sample(clock_.Now() - probe.sent);
    }
    s.last_latency = result.latency;
    s.latency_ewma = s.latency_ewma == absl::ZeroDuration()
                         ? result.latency
                         : options_.ewma_weight * result.latency +
                               (1 - options_.ewma_weight) * s.latency_ewma;
    s.via_received = result.via_received;
    s.via_rport = result.via_rport;
  }
  if (verdict != Verdict::kSuccess && s.last_error.empty()) {
    s.last_error = absl::StrCat("answered ", result.status_code);
  }
  // An answer, even a late one, ends the round: the other probes of it
  // would only repeat what this one said.
  for (auto& [other, p] : t.in_flight) {
    p.abandoned = true;
    p.overdue.reset();
  }
  ApplyVerdict(t, verdict);
  Schedule(t, NextDelay(t));
}

absl::Duration HealthTracker::NextDelay(const Tracked& t) {
  const Counters& c = t.status.counters;
  if (assignment_ == nullptr || ChangePending(c)) {
    return NextProbeDelay(c, options_.intervals, random_);
  }
  return assignment_->NextTurnIn(t.status.endpoint)
      .value_or(options_.intervals.interval);
}

void HealthTracker::Reassign() {
  for (auto& [endpoint, t] : endpoints_) {
    if (t->in_flight.empty()) Schedule(*t, NextDelay(*t));
  }
}

void HealthTracker::ApplyVerdict(Tracked& t, Verdict verdict) {
  SetCounters(t, Apply(t.status.counters, verdict, options_.thresholds));
  if (!probed_listener_) return;
  SharedHealth now = Shareable(t);
  if (t.shared && t.shared->SameVerdict(now)) return;
  t.shared = now;
  probed_listener_(t.status.endpoint, now);
}

SharedHealth HealthTracker::Shareable(const Tracked& t) const {
  const EndpointStatus& s = t.status;
  SharedHealth shared;
  // Only the progress toward leaving the state counts (Apply): failures
  // while HEALTHY, successes while UNHEALTHY.
  shared.counters.state = s.counters.state;
  if (s.counters.state == HealthState::kHealthy) {
    shared.counters.consecutive_failures = s.counters.consecutive_failures;
  } else if (s.counters.state == HealthState::kUnhealthy) {
    shared.counters.consecutive_successes = s.counters.consecutive_successes;
  }
  shared.last_response_code = s.last_response_code;
  shared.last_error = s.last_error;
  shared.latency = s.last_latency;
  return shared;
}

void HealthTracker::AdoptShared(const sip::Endpoint& endpoint,
                                const SharedHealth& shared) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Tracked& t = *it->second;
  EndpointStatus& s = t.status;
  s.last_response_code = shared.last_response_code;
  s.last_error = shared.last_error;
  if (shared.latency > absl::ZeroDuration()) s.last_latency = shared.latency;
  t.shared = shared;
  SetCounters(t, shared.counters);
}

void HealthTracker::SetCounters(Tracked& t, const Counters& counters) {
  EndpointStatus& s = t.status;
  const HealthState before = s.counters.state;
  s.counters = counters;
  if (s.counters.state != before) {
    s.last_change = clock_.Now();
    panic_.SetState(s.endpoint, s.counters.state);
    observer_->OnTransition(before, s.counters.state);
  }
  Evaluate(t, before);
  // Evidence counts from the probes' last change: a change starts it anew.
  if (s.counters.state != before) ShareEvidence(t);
}

void HealthTracker::ShareEvidence(const Tracked& t) {
  if (!evidence_listener_) return;
  const EndpointStatus& s = t.status;
  std::vector<SharedReport> reports;
  if (s.counters.state == HealthState::kUnhealthy) {
    reports = evidence_.Export(s.endpoint, s.last_change, clock_.Now());
  }
  evidence_listener_(s.endpoint, reports);
}

void HealthTracker::AdoptEvidence(const sip::Endpoint& endpoint,
                                  const std::string& source,
                                  const std::vector<SharedReport>& reports) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  evidence_.SetRemote(endpoint, source, reports, clock_.Now());
  Evaluate(*it->second, it->second->status.counters.state);
}

bool HealthTracker::ReportRegistration(const sip::Endpoint& endpoint,
                                       Reporter reporter, bool registered) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return false;
  evidence_.Record(endpoint, reporter, registered, clock_.Now());
  Evaluate(*it->second, it->second->status.counters.state);
  if (it->second->status.counters.state == HealthState::kUnhealthy) {
    ShareEvidence(*it->second);
  }
  return !registered && ProbeSoon(endpoint);
}

// Device reports count only from the probes' last change on: successes
// from before a server died say nothing about it now.
void HealthTracker::Evaluate(Tracked& t, HealthState probe_before) {
  EndpointStatus& s = t.status;
  const bool probe_state_changed = s.counters.state != probe_before;
  const HealthState before = s.decision_state;
  const bool confirmed_before = s.devices_confirm_failure;
  const DeviceTally tally_before = s.devices;
  s.devices = evidence_.Tally(s.endpoint, s.last_change, clock_.Now());
  const bool failing = s.counters.state == HealthState::kUnhealthy;
  const bool quorum_registers = s.devices.successes >= evidence_.quorum();
  s.decision_state =
      failing && quorum_registers ? HealthState::kHealthy : s.counters.state;
  s.devices_confirm_failure =
      failing && !quorum_registers && s.devices.failures >= evidence_.quorum();
  const bool changed = probe_state_changed || s.decision_state != before ||
                       s.devices_confirm_failure != confirmed_before;
  // Reports about an endpoint whose probes succeed change no count: skip
  // the scan over all endpoints (reports arrive at fleet rate).
  if (changed || (failing && !(s.devices == tally_before))) ReportCounts();
  if (!changed) return;
  const EndpointStatus snapshot = t.Snapshot();
  observer_->OnChange(snapshot, probe_before);
  if (listener_) listener_(snapshot);
}

void HealthTracker::ReportCounts() {
  int counts[3] = {0, 0, 0};
  int disputed_with_quorum = 0, disputed_without = 0;
  for (const auto& [e, t] : endpoints_) {
    const EndpointStatus& s = t->status;
    ++counts[static_cast<int>(s.counters.state)];
    if (s.counters.state != HealthState::kUnhealthy) continue;
    if (s.devices.successes > 0) {
      ++(s.decision_state == HealthState::kHealthy ? disputed_with_quorum
                                                   : disputed_without);
    }
  }
  for (HealthState s : {HealthState::kUnknown, HealthState::kHealthy,
                        HealthState::kUnhealthy}) {
    observer_->OnEndpointCount(s, counts[static_cast<int>(s)]);
  }
  observer_->OnDisputedCount(disputed_with_quorum, disputed_without);

  healthy_ratio_ = panic_.healthy_ratio();
  const bool suspect = panic_.suspect();
  observer_->OnProbePath(suspect, healthy_ratio_);
  if (suspect == suspect_) return;
  suspect_ = suspect;
  if (panic_listener_) panic_listener_(suspect);
}

}  // namespace sipresolver::health
