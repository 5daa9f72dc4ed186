// ProfileWatcher: the agents of one ITSP profile and their streams. The
// candidates they share are ProfileCandidates', their decisions
// DecisionGroups'; the watcher gives each agent its own versions (so they
// grow across reconnects and replicas) and heartbeats, and ends streams.
// Loop thread only.
#ifndef SIPRESOLVER_SERVER_PROFILE_WATCHER_H_
#define SIPRESOLVER_SERVER_PROFILE_WATCHER_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lib/decision/profile.h"
#include "lib/health/health_tracker.h"
#include "server/decision_convert.h"
#include "server/decision_groups.h"
#include "server/decision_sink.h"
#include "server/profile_candidates.h"
#include "server/watch_context.h"

namespace sipresolver::server {

class ProfileWatcher {
 public:
  ProfileWatcher(const WatcherContext& context, decision::Profile profile);
  ~ProfileWatcher();

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
  struct Agent : GroupMember {
    std::shared_ptr<DecisionSink> stream;
    // The last version sent: from the wall clock at subscription, so it
    // grows across reconnects and restarts, never below what the agent
    // applied; +1 for each decision sent.
    uint64_t version = 0;
  };
  void OnCandidates(const std::vector<sip::Endpoint>& added, bool renewed);
  void OnGroupChange(const DecisionGroup& group, const v1::Decision& previous);
  void Send(Agent& agent, const v1::Decision& decision);
  void Heartbeat();
  // Ends every agent's stream with `status` and forgets the agent; the
  // stream stays in ending_ until gRPC is done with it.
  void EndAgents(const absl::Status& status);

  const WatcherContext context_;
  const decision::Profile profile_;
  ProfileCandidates candidates_;
  DecisionGroups groups_;
  absl::flat_hash_map<DecisionSink*, std::unique_ptr<Agent>> agents_;
  // Ended streams whose final write may still be in flight: checked at each
  // heartbeat, so an agent that stopped reading is cut off (and its hub
  // entry freed) rather than kept forever.
  absl::flat_hash_map<DecisionSink*, std::shared_ptr<DecisionSink>> ending_;
  std::unique_ptr<Timer> heartbeat_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_PROFILE_WATCHER_H_
