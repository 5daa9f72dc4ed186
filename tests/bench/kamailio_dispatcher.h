// KamailioDispatcher: Kamailio's dispatcher module pinging SIP destinations
// on loopback, the peer sipresolver's detection is measured against. Tuned
// as its operators tune it for fast failover (the figures of issue 13):
// ds_ping_interval=1 (one OPTIONS per second per destination, from one
// timer for all), ds_probing_threshold=1 (one failed ping marks it down),
// ds_inactive_threshold=1, fr_timer=1000 ms (tm retransmits from 500 ms).
//
// Every state change is logged by event_route[dispatcher:dst-down] and
// [dispatcher:dst-up] with Kamailio's own wall-clock time ($TV(Sn)), so the
// bench reads when Kamailio decided, not when it polled. Processes run as a
// GuardedProcessGroup (none outlives the bench). Thread-compatible.
#ifndef SIPRESOLVER_TESTS_BENCH_KAMAILIO_DISPATCHER_H_
#define SIPRESOLVER_TESTS_BENCH_KAMAILIO_DISPATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/guarded_process_group.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

struct DestinationEvent {
  absl::Time time;    // Kamailio's clock.
  uint16_t port = 0;  // Of the destination sip:127.0.0.1:PORT.
  bool up = false;
};

class KamailioDispatcher {
 public:
  // Pings each sip:127.0.0.1:PORT of `ports` (OPTIONS, the module's default).
  static absl::StatusOr<std::unique_ptr<KamailioDispatcher>> Start(
      const std::vector<uint16_t>& ports);
  ~KamailioDispatcher();

  uint16_t port() const { return port_; }  // Its own SIP port (UDP).
  // Events logged since the previous call.
  std::vector<DestinationEvent> NewEvents();
  std::vector<pid_t> ProcessIds() const { return group_.ProcessIds(); }

 private:
  explicit KamailioDispatcher(TempDir dir);
  absl::Status WriteConfig(const std::vector<uint16_t>& ports);

  TempDir dir_;
  LogFile log_;
  GuardedProcessGroup group_;
  uint16_t port_ = 0;
  size_t read_ = 0;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_BENCH_KAMAILIO_DISPATCHER_H_
