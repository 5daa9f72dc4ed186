// ReplicaSession: this replica's place in the fleet of sipresolverd
// replicas that share probing through etcd (--etcd_endpoints). It holds a
// lease, keeps the key `<prefix>replicas/<id>` attached to it, and follows
// every key under `<prefix>replicas/`: the live replicas are exactly the
// keys there, since a replica that dies or loses etcd for a lease's TTL
// drops out by itself (its lease expires and etcd deletes its key).
//
// A session is active from the moment its key is written and the replica
// list read, until its lease is lost (not refreshed within the TTL, or gone)
// or the watch misses changes (compaction). Then it reports itself
// inactive with the reason and starts again with a new lease every
// `retry_interval`, for as long as it runs: etcd that is down at start or
// goes away only delays membership; nothing else stops.
//
// The id must be unique among live replicas (the pod name). A key of that
// id still held by another lease, e.g. a restarted pod's old one before its
// TTL runs out, keeps the session inactive (FAILED_PRECONDITION, naming
// it) until that key goes.
//
// Threading: a thread of its own, plus the LeaseKeeper's and the
// PrefixWatcher's. Callbacks never run concurrently with each other (the
// owner hands their values over to its own thread, e.g. posts them to the
// event loop) and must not Stop() or destroy the session. Stop() revokes
// the lease so that the others see this replica leave at once rather than
// one TTL later; with etcd unreachable it takes up to two of the client's
// request timeouts (the call in flight, then the revocation).
#ifndef SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_
#define SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/etcd/etcd_client.h"

namespace sipresolver::etcd {

struct ReplicaSessionOptions {
  // Every key of the fleet starts with it (--etcd_prefix); ends with '/'.
  std::string prefix = "/sipresolver/";
  std::string replica_id;  // Unique among live replicas; no '/'.
  // How long a replica stays listed after it stopped refreshing (etcd
  // raises less than 2 s to 2 s).
  absl::Duration lease_ttl = absl::Seconds(5);
  absl::Duration retry_interval = absl::Seconds(1);
};

class ReplicaSession {
 public:
  struct Callbacks {
    // Active (true, OK) or not any more (false, why); first called when
    // the first attempt succeeds or fails.
    absl::AnyInvocable<void(bool active, absl::Status why)> on_state;
    // The live replicas' ids, sorted, this one included: once each time
    // the session becomes active, then after every change.
    absl::AnyInvocable<void(std::vector<std::string> replicas)> on_replicas;
  };

  // INVALID_ARGUMENT for an empty id or one with '/', or a prefix that does
  // not end with '/'.
  static absl::Status Validate(const ReplicaSessionOptions& options);

  // Starts the thread. `client` must outlive the session; options must be
  // valid (Validate).
  ReplicaSession(EtcdClient& client, ReplicaSessionOptions options,
                 Callbacks callbacks);
  ~ReplicaSession();
  ReplicaSession(const ReplicaSession&) = delete;
  ReplicaSession& operator=(const ReplicaSession&) = delete;

  // Leaves the fleet: no callback runs after it returns. Idempotent.
  void Stop();

  const std::string& key() const { return key_; }

 private:
  void Run();
  // One session from a new lease to its end: returns why it ended (OK when
  // stopped).
  absl::Status RunOnce();
  // Waits until the session ends or Stop(); returns why it ended.
  absl::Status AwaitEnd() ABSL_LOCKS_EXCLUDED(mu_);
  void End(absl::Status why) ABSL_LOCKS_EXCLUDED(mu_);
  void OnEvents(std::vector<WatchEvent> events);
  void ReportReplicas() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EtcdClient& client_;
  const ReplicaSessionOptions options_;
  const std::string replicas_prefix_;  // <prefix>replicas/
  const std::string key_;              // <prefix>replicas/<id>

  absl::Mutex mu_;
  Callbacks callbacks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Why the current session ended (its lease lost, its watch compacted).
  std::optional<absl::Status> ended_ ABSL_GUARDED_BY(mu_);
  bool lease_lost_ ABSL_GUARDED_BY(mu_) = false;  // The keeper gave up.
  std::set<std::string> replicas_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: starts once everything else is set.
};

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_
