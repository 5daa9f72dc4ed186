#include "lib/health/health_tracker.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sipresolver::health {

struct HealthTracker::Tracked {
  EndpointStatus status;
  absl::Time last_touch;
  int pins = 0;
  std::unique_ptr<Timer> next_probe;
  bool probing = false;
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
      evidence_(options.evidence) {}

// Probes still in flight report into a tracker that is gone: `alive_` tells.
HealthTracker::~HealthTracker() { *alive_ = false; }

absl::Status HealthTracker::Touch(const sip::Endpoint& endpoint,
                                  const std::string& domain) {
  const absl::Time now = clock_.Now();
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) {
    if (absl::Status allowed = policy_.Check(endpoint.address, domain);
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
    auto tracked = std::make_unique<Tracked>();
    tracked->status.endpoint = endpoint;
    tracked->status.last_change = now;
    it = endpoints_.emplace(endpoint, std::move(tracked)).first;
    Schedule(*it->second, absl::ZeroDuration());
    ReportCounts();
  }
  Tracked& t = *it->second;
  t.last_touch = now;
  if (t.status.domains.insert(domain).second) ++endpoints_per_domain_[domain];
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
  if (it == endpoints_.end() || it->second->probing) return false;
  Schedule(*it->second, absl::ZeroDuration());
  return true;
}

std::optional<EndpointStatus> HealthTracker::Get(const sip::Endpoint& e) const {
  auto it = endpoints_.find(e);
  if (it == endpoints_.end()) return std::nullopt;
  return it->second->status;
}

std::vector<EndpointStatus> HealthTracker::List() const {
  std::vector<EndpointStatus> out;
  out.reserve(endpoints_.size());
  for (const auto& [endpoint, t] : endpoints_) out.push_back(t->status);
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
    endpoints_.erase(it);
    ReportCounts();
    return;
  }
  if (!rate_limiter_.TryAcquire(now)) {
    return Schedule(t, rate_limiter_.TimeUntilAvailable(now));
  }
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
  t.probing = true;
  prober_.Probe(request, [this, alive = alive_, endpoint,
                          had_credentials](const sip::ProbeResult& result) {
    if (*alive) OnResult(endpoint, had_credentials, result);
  });
}

void HealthTracker::OnResult(const sip::Endpoint& endpoint,
                             bool had_credentials,
                             const sip::ProbeResult& result) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Tracked& t = *it->second;
  EndpointStatus& s = t.status;
  t.probing = false;
  const Verdict verdict = Classify(result, had_credentials, options_.accepted);
  observer_->OnProbe(options_.use_options ? "OPTIONS" : "REGISTER",
                     OutcomeName(result, verdict), result.latency);

  ++s.probes;
  s.last_response_code = result.status_code;
  s.last_error = result.error;
  if (result.outcome == sip::ProbeResult::Outcome::kResponse) {
    s.last_latency = result.latency;
    s.latency_ewma = s.probes == 1 || s.latency_ewma == absl::ZeroDuration()
                         ? result.latency
                         : options_.ewma_weight * result.latency +
                               (1 - options_.ewma_weight) * s.latency_ewma;
    s.via_received = result.via_received;
    s.via_rport = result.via_rport;
  }
  if (verdict != Verdict::kSuccess && s.last_error.empty()) {
    s.last_error = absl::StrCat("answered ", result.status_code);
  }
  const HealthState before = s.counters.state;
  s.counters = Apply(s.counters, verdict, options_.thresholds);
  if (s.counters.state != before) {
    s.last_change = clock_.Now();
    observer_->OnTransition(before, s.counters.state);
  }
  Evaluate(s, before);
  Schedule(t, NextProbeDelay(s.counters, options_.intervals, random_));
}

bool HealthTracker::ReportRegistration(const sip::Endpoint& endpoint,
                                       Reporter reporter, bool registered) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return false;
  evidence_.Record(endpoint, reporter, registered, clock_.Now());
  Evaluate(it->second->status, it->second->status.counters.state);
  return !registered && ProbeSoon(endpoint);
}

// Device reports count only from the probes' last change on: successes
// from before a server died say nothing about it now.
void HealthTracker::Evaluate(EndpointStatus& s, HealthState probe_before) {
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
  if (changed) observer_->OnChange(s, probe_before);
  if (changed && listener_) listener_(s);
}

void HealthTracker::ReportCounts() {
  int counts[3] = {0, 0, 0};
  int disputed_with_quorum = 0, disputed_without = 0;
  std::set<std::string> failing_names;
  for (const auto& [e, t] : endpoints_) {
    const EndpointStatus& s = t->status;
    ++counts[static_cast<int>(s.counters.state)];
    if (s.counters.state != HealthState::kUnhealthy) continue;
    if (s.devices.successes > 0) {
      ++(s.decision_state == HealthState::kHealthy ? disputed_with_quorum
                                                   : disputed_without);
    }
    for (const std::string& d : s.domains)
      failing_names.insert(d.empty() ? e.address : d);
  }
  for (HealthState s : {HealthState::kUnknown, HealthState::kHealthy,
                        HealthState::kUnhealthy}) {
    observer_->OnEndpointCount(s, counts[static_cast<int>(s)]);
  }
  observer_->OnDisputedCount(disputed_with_quorum, disputed_without);

  const int healthy = counts[static_cast<int>(HealthState::kHealthy)];
  const int settled =
      healthy + counts[static_cast<int>(HealthState::kUnhealthy)];
  const double ratio =
      settled == 0 ? 1.0 : static_cast<double>(healthy) / settled;
  healthy_ratio_ = ratio;
  const bool suspect =
      ratio < options_.panic_threshold &&
      static_cast<int>(failing_names.size()) >= options_.panic_min_domains;
  observer_->OnProbePath(suspect, ratio);
  if (suspect == suspect_) return;
  suspect_ = suspect;
  if (panic_listener_) panic_listener_(suspect);
}

}  // namespace sipresolver::health
