// HealthLog: the health tracker's events as log lines, in front of another
// observer (the metrics) that still gets every call.
//
// Logs an endpoint's state changes (probes' verdict, what decisions use,
// devices confirming a failure) with the endpoint, its transport and the
// configured server names it came from, and each change of the probe path
// verdict (fail static). Nothing about credentials is known here.
// Loop thread only, like the tracker; `next` must outlive it.
#ifndef SIPRESOLVER_SERVER_HEALTH_LOG_H_
#define SIPRESOLVER_SERVER_HEALTH_LOG_H_

#include "lib/health/health_tracker.h"

namespace sipresolver::server {

class HealthLog : public health::HealthObserver {
 public:
  explicit HealthLog(health::HealthObserver& next) : next_(next) {}

  void OnChange(const health::EndpointStatus& status,
                health::HealthState probe_before) override;
  void OnProbePath(bool suspect, double healthy_ratio) override;

  void OnProbe(absl::string_view method, absl::string_view outcome,
               absl::Duration latency) override {
    next_.OnProbe(method, outcome, latency);
  }
  void OnTransition(health::HealthState from, health::HealthState to) override {
    next_.OnTransition(from, to);
  }
  void OnEndpointCount(health::HealthState state, int count) override {
    next_.OnEndpointCount(state, count);
  }
  void OnDisputedCount(int with_quorum, int without) override {
    next_.OnDisputedCount(with_quorum, without);
  }

 private:
  health::HealthObserver& next_;
  bool suspect_ = false;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_HEALTH_LOG_H_
