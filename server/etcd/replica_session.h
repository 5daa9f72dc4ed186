// ReplicaSession: this replica's place in the fleet of sipresolverd
// replicas that share probing through etcd (--etcd_endpoints), and its one
// conversation with etcd about it.
//
// It holds a lease with the key `<prefix>replicas/<id>` attached, so that
// the live replicas are exactly the keys there: a replica that dies or
// loses etcd for a lease's TTL drops out by itself. It follows every key
// under the prefix (a snapshot, then each change in order), and writes what
// the replica tells others: keys it holds while it lives (Hold: attached to
// the lease, written again under each new lease) and plain keys (Write: the
// latest value of each, once).
//
// A session is active from the moment its key is written and the prefix
// read, until its lease is lost (not refreshed within the TTL, or gone),
// its key is deleted, a write fails, or the watch misses changes
// (compaction). Then it reports itself inactive with the reason and starts
// again with a new lease every `retry_interval`, for as long as it runs:
// etcd that is down at start or goes away only delays sharing. Writes wait
// meanwhile (only the latest value of a key is kept).
//
// The id must be unique among live replicas (the pod name). A key of that
// id still held by another lease, e.g. a restarted pod's old one before its
// TTL runs out, keeps the session inactive (FAILED_PRECONDITION, naming
// it) until that key goes.
//
// Threading: a thread of its own, plus the LeaseKeeper's and the
// PrefixWatcher's. Callbacks never run concurrently with each other (the
// owner hands their values over to its own thread, e.g. posts them to the
// event loop) and must not call the session. Hold, Release and Write are
// thread-safe. Stop() revokes the lease so that the others see this replica
// leave at once rather than one TTL later; with etcd unreachable it takes
// up to the lease's TTL.
#ifndef SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_
#define SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_

#include <map>
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
    // Every key under the prefix, as each new session starts (before it
    // reports itself active): what changed while there was none is in it.
    absl::AnyInvocable<void(std::vector<EtcdKeyValue> kvs)> on_snapshot;
    // The changes after the snapshot, in order (this replica's own writes
    // included).
    absl::AnyInvocable<void(std::vector<WatchEvent> events)> on_events;
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

  // `key` (under the prefix) = `value` for as long as this replica lives.
  void Hold(const std::string& key, const std::string& value);
  // Deletes a key Hold wrote.
  void Release(const std::string& key);
  // `key` = `value`, independent of this replica's life.
  void Write(const std::string& key, const std::string& value);

  // Leaves the fleet: no callback runs after it returns. Idempotent.
  void Stop();

  const std::string& key() const { return key_; }

 private:
  void Run();
  // One session from a new lease to its end: returns why it ended (OK when
  // stopped).
  absl::Status RunOnce();
  // Writes what waits until the session ends or Stop(); returns why it
  // ended.
  absl::Status ServeWrites(int64_t lease) ABSL_LOCKS_EXCLUDED(mu_);
  void End(absl::Status why) ABSL_LOCKS_EXCLUDED(mu_);

  EtcdClient& client_;
  const ReplicaSessionOptions options_;
  const std::string key_;  // <prefix>replicas/<id>

  absl::Mutex mu_;
  Callbacks callbacks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Why the current session ended (lease lost, key deleted, compaction).
  std::optional<absl::Status> ended_ ABSL_GUARDED_BY(mu_);
  bool lease_lost_ ABSL_GUARDED_BY(mu_) = false;  // The keeper gave up.
  std::map<std::string, std::string> held_ ABSL_GUARDED_BY(mu_);
  // Held keys whose presence or value etcd does not have yet.
  std::set<std::string> held_dirty_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> writes_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: starts once everything else is set.
};

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_REPLICA_SESSION_H_
