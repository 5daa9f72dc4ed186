// DecisionHub: routes WatchDecision streams to profile watchers. Agents with
// identical profiles (same ProfileKey) share one watcher, created on the
// first subscription and removed `idle_grace` after the last agent left, so
// its pins (and the probes they cause) go away too. Enforces the stream and
// watcher limits. Loop thread only.
#ifndef SIPRESOLVER_SERVER_DECISION_HUB_H_
#define SIPRESOLVER_SERVER_DECISION_HUB_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "server/profile_watcher.h"

namespace sipresolver::server {

class DecisionHub {
 public:
  explicit DecisionHub(const WatcherContext& context);
  ~DecisionHub();

  // RESOURCE_EXHAUSTED past a limit, naming it; PERMISSION_DENIED when
  // nothing may be probed or (ProfileWatcher) a server of the profile may
  // not be. On success the stream gets its first decision at once.
  absl::Status Subscribe(const std::shared_ptr<DecisionSink>& stream,
                         const WatchRequest& request, const std::string& peer);
  void Unsubscribe(DecisionSink* stream);
  // Ends every stream with `status`, asking agents to reconnect at once
  // (shutdown).
  void EndAll(const absl::Status& status);
  // Hears every endpoint health change, after the watchers (the DNS face
  // ranks the servers a decision does not order by it). One observer.
  void SetHealthObserver(health::HealthTracker::Listener observer) {
    health_observer_ = std::move(observer);
  }

  size_t watchers() const { return watchers_.size(); }
  size_t streams() const { return streams_.size(); }
  // Connections with at least one stream.
  size_t peers() const { return streams_per_peer_.size(); }

 private:
  struct Entry {
    std::unique_ptr<ProfileWatcher> watcher;
    std::unique_ptr<Timer> reap;  // Set while the watcher has no agents.
  };
  struct StreamInfo {
    std::string key;
    std::string peer;
  };
  // Removes the watcher `idle_grace` from now unless an agent comes.
  void ReapWhenIdle(const std::string& key);
  void ReportCounts();

  const WatcherContext context_;
  health::HealthTracker::Listener health_observer_;
  absl::flat_hash_map<std::string, Entry> watchers_;
  absl::flat_hash_map<DecisionSink*, StreamInfo> streams_;
  absl::flat_hash_map<std::string, int> streams_per_peer_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_HUB_H_
