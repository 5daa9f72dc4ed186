#include "server/health_log.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/core/host_port.h"
#include "lib/core/transport.h"
#include "server/log.h"

namespace sipresolver::server {

void HealthLog::OnChange(const health::EndpointStatus& s,
                         health::HealthState probe_before) {
  next_.OnChange(s, probe_before);
  const bool down = s.decision_state == health::HealthState::kUnhealthy;
  Log(down ? Severity::kWarning : Severity::kInfo, "endpoint health changed",
      {{"endpoint", HostPort(s.endpoint.address, s.endpoint.port)},
       {"transport", TransportName(s.endpoint.transport)},
       LogField::List("servers", s.domains),
       {"from", health::HealthStateName(probe_before)},
       {"to", health::HealthStateName(s.counters.state)},
       {"decision_state", health::HealthStateName(s.decision_state)},
       {"devices_confirm_failure", s.devices_confirm_failure},
       {"last_response_code", s.last_response_code},
       {"last_error", s.last_error}});
}

void HealthLog::OnProbePath(bool suspect, double healthy_ratio) {
  next_.OnProbePath(suspect, healthy_ratio);
  if (suspect == suspect_) return;
  suspect_ = suspect;
  const int healthy_percent =
      static_cast<int>(std::lround(healthy_ratio * 100));
  if (suspect) {
    Log(Severity::kWarning,
        "probe path suspect: most probed servers fail at once; decisions "
        "fall back to the devices' own order",
        {{"probe_path_suspect", true}, {"healthy_percent", healthy_percent}});
  } else {
    Log("probe path trusted again",
        {{"probe_path_suspect", false}, {"healthy_percent", healthy_percent}});
  }
}

}  // namespace sipresolver::server
