#include "lib/health/health_state.h"

namespace sipresolver::health {

absl::string_view HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kUnknown:
      return "unknown";
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
  }
  return "unknown";
}

Verdict Classify(const sip::ProbeResult& result, bool had_credentials,
                 const AcceptedCodes& accepted) {
  switch (result.outcome) {
    case sip::ProbeResult::Outcome::kTimeout:
      return Verdict::kFailure;
    case sip::ProbeResult::Outcome::kNetworkError:
      return Verdict::kDefiniteFailure;
    case sip::ProbeResult::Outcome::kResponse:
      break;
  }
  const int code = result.status_code;
  if (code >= 200 && code < 300) return Verdict::kSuccess;
  const std::set<int>& codes = had_credentials ? accepted.with_credentials
                                               : accepted.without_credentials;
  return codes.count(code) ? Verdict::kSuccess : Verdict::kDefiniteFailure;
}

Counters Apply(Counters c, Verdict verdict, const Thresholds& thresholds) {
  if (verdict == Verdict::kSuccess) {
    ++c.consecutive_successes;
    c.consecutive_failures = 0;
    if (c.state == HealthState::kUnknown ||
        c.consecutive_successes >= thresholds.healthy) {
      c.state = HealthState::kHealthy;
    }
    return c;
  }
  ++c.consecutive_failures;
  c.consecutive_successes = 0;
  if (c.state == HealthState::kUnknown ||
      verdict == Verdict::kDefiniteFailure ||
      c.consecutive_failures >= thresholds.unhealthy) {
    c.state = HealthState::kUnhealthy;
  }
  return c;
}

bool ChangePending(const Counters& c) {
  return c.state == HealthState::kUnknown ||
         (c.state == HealthState::kHealthy && c.consecutive_failures > 0) ||
         (c.state == HealthState::kUnhealthy && c.consecutive_successes > 0);
}

absl::Duration NextProbeDelay(const Counters& c, const Intervals& intervals,
                              Random& random) {
  const absl::Duration base =
      ChangePending(c) ? intervals.edge_interval : intervals.interval;
  constexpr uint64_t kSteps = 1000;
  const double unit =
      static_cast<double>(random.UniformInclusive(kSteps)) / kSteps;
  return base * (1.0 + intervals.jitter * (2.0 * unit - 1.0));
}

}  // namespace sipresolver::health
