// What every profile watcher shares: its options and the daemon's parts it
// uses.
#ifndef SIPRESOLVER_SERVER_WATCH_CONTEXT_H_
#define SIPRESOLVER_SERVER_WATCH_CONTEXT_H_

#include "absl/time/time.h"
#include "lib/core/clock.h"
#include "lib/core/timer.h"
#include "lib/decision/decision_engine.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "server/metrics.h"

namespace sipresolver::server {

struct WatchOptions {
  absl::Duration heartbeat = absl::Seconds(30);
  // A watcher without agents lives on this long (an agent reconnecting
  // finds its DNS answer and probes warm).
  absl::Duration idle_grace = absl::Seconds(30);
  absl::Duration dns_retry = absl::Seconds(5);
  absl::Duration min_refresh = absl::Seconds(1);  // Bounds on TTL renewal.
  absl::Duration max_refresh = absl::Hours(1);
  decision::EngineOptions engine;
  int max_watchers = 1000;
  int max_streams = 20000;
  int max_streams_per_peer = 1000;
};

// What a watcher needs from the daemon; all outlive it. Timers fire on the
// thread the watcher lives on (the daemon's event loop).
struct WatcherContext {
  TimerFactory& timers;
  dns::DeviceResolver& resolver;
  health::HealthTracker& health;
  const Clock& clock;       // Monotonic: the engines' time.
  const Clock& wall_clock;  // Timestamps and versions agents see.
  Metrics& metrics;
  const WatchOptions& options;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_WATCH_CONTEXT_H_
