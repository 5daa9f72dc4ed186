// ProfileWatcher: what all agents of one ITSP profile share, and each
// agent's own decision.
//
// Shared: the resolution of the redundancy target (S3), renewed when its
// smallest TTL runs out (S11) and retried after failures, keeping the last
// candidates meanwhile; and pins that keep those servers probed.
//
// Decisions: agents whose spread order of the candidates is the same share
// one DecisionEngine (a group), so a health change costs one engine step and
// one Decision message per group, not per agent, and an agent's state is
// only its stream and its versions. A new agent joins the group of its
// order and takes its current decision, as one that reconnects (e.g. from
// another replica, which sees the same health) does: it is not moved off a
// server the rest of its group keeps. When new candidates reorder agents
// differently, a group splits, each part keeping a copy of its engine, so no
// agent's history (current server, fallback timeline) is lost; groups are
// never merged. Loop thread only.
#ifndef SIPRESOLVER_SERVER_PROFILE_WATCHER_H_
#define SIPRESOLVER_SERVER_PROFILE_WATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lib/core/clock.h"
#include "lib/core/timer.h"
#include "lib/decision/decision_engine.h"
#include "lib/decision/spreading.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "server/decision_convert.h"
#include "server/decision_sink.h"
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

class ProfileWatcher {
 public:
  ProfileWatcher(const WatcherContext& context, decision::Profile profile);
  ~ProfileWatcher();  // Unpins its servers.

  // The stream gets the agent's current decision at once, then every change.
  // PERMISSION_DENIED or RESOURCE_EXHAUSTED, naming the server, while a
  // server of the profile may not be probed (the streams it had are ended so).
  absl::Status Subscribe(const std::shared_ptr<DecisionSink>& stream,
                         const WatchRequest& request);
  void Unsubscribe(DecisionSink* stream);
  void OnHealth(const health::EndpointStatus& status);
  void OnProbePathSuspect(bool suspect);
  // Shutdown: ends every stream with `status`, asking to reconnect at once.
  void EndAll(const absl::Status& status);
  // No agent and no stream still ending: the watcher may go.
  bool idle() const { return agents_.empty() && ending_.empty(); }

 private:
  struct Agent;
  struct Group;
  void Resolve();
  void OnResolved(const absl::Status& status, dns::Resolution resolution);
  // Returns the endpoints pinned anew.
  std::vector<sip::Endpoint> Repin(
      const std::vector<dns::Candidate>& candidates);
  // Hands the group the tracker's health of `endpoints` (pinned ones). True
  // when its decision changed.
  bool FeedHealth(Group& group, const std::vector<sip::Endpoint>& endpoints);
  std::vector<dns::Candidate> OrderFor(const Agent& agent) const;
  // The group `agent` (not yet in one) joins: the first of its order, or a
  // new one, which starts from what the agent says it registers with.
  Group& GroupFor(const Agent& agent, const WatchRequest& request);
  // New candidates: splits groups whose agents now have different orders
  // and hands every group its order.
  void Regroup();
  void Leave(Agent& agent);
  // After an engine call: publish when `changed`, re-arm its wakeup.
  void Settle(Group& group, bool changed);
  // Builds the group's message from its engine's decision.
  void Publish(Group& group);
  void Send(Agent& agent);
  void Heartbeat();
  // Ends every agent's stream with `status` and forgets the agent; the
  // stream stays in ending_ until gRPC is done with it.
  void EndAgents(const absl::Status& status);

  const WatcherContext context_;
  const decision::Profile profile_;
  const decision::RedundancyTarget target_;
  std::vector<dns::Candidate> candidates_;
  bool resolved_once_ = false;
  std::string dns_error_;
  std::vector<sip::Endpoint> pinned_;
  // Why the latest candidates cannot be decided on: a server the allowlist
  // refuses (PERMISSION_DENIED) or the probe caps (RESOURCE_EXHAUSTED).
  absl::Status refused_;
  absl::flat_hash_map<DecisionSink*, std::unique_ptr<Agent>> agents_;
  std::vector<std::unique_ptr<Group>> groups_;
  // The group a new agent of an order joins (splits leave several).
  absl::flat_hash_map<std::string, Group*> group_of_order_;
  // Ended streams whose final write may still be in flight: checked at each
  // heartbeat, so an agent that stopped reading is cut off (and its hub
  // entry freed) rather than kept forever.
  absl::flat_hash_map<DecisionSink*, std::shared_ptr<DecisionSink>> ending_;
  std::unique_ptr<Timer> refresh_;
  std::unique_ptr<Timer> heartbeat_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_PROFILE_WATCHER_H_
