// PrefixWatcher: follows every change under a key prefix in etcd from a
// given revision, on its own thread, and delivers the changes in revision
// order, each exactly once, across broken streams and etcd restarts. Made
// by EtcdClient::WatchPrefix; the usual pattern is GetPrefix (a snapshot at
// revision R), then WatchPrefix from R + 1.
//
// When the stream breaks (etcd restarted, member gone) it reconnects with
// backoff (100 ms doubling to 2 s) and resumes from the revision after the
// last one delivered. If etcd has compacted that revision away, the changes
// in between are lost: the watcher reports the compaction and ends; the
// owner re-lists (GetPrefix) and starts a new watcher.
//
// Threading: the callbacks run on the watcher's thread, one at a time; the
// owner hands the events over to its own thread and must not Stop() or
// destroy the watcher from inside a callback. Stop() is prompt (it cancels
// the stream) and the destructor stops; no thread outlives the object.
#ifndef SIPRESOLVER_SERVER_ETCD_PREFIX_WATCHER_H_
#define SIPRESOLVER_SERVER_ETCD_PREFIX_WATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcd_v3.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace sipresolver::etcd {

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;  // Empty for kDelete.
  // The change's revision; events of one transaction share it.
  int64_t mod_revision = 0;
};

class PrefixWatcher {
 public:
  struct Callbacks {
    // The changes of one or more whole revisions, in order.
    absl::AnyInvocable<void(std::vector<WatchEvent> events)> on_events;
    // Revisions before `compact_revision` are gone: the watcher has ended
    // without them. Called at most once.
    absl::AnyInvocable<void(int64_t compact_revision)> on_compacted;
  };

  // Starts the thread. `start_revision` 0: changes after the store's
  // revision when the first stream is created.
  PrefixWatcher(const std::shared_ptr<grpc::Channel>& channel,
                std::string prefix, int64_t start_revision,
                Callbacks callbacks);
  ~PrefixWatcher();
  PrefixWatcher(const PrefixWatcher&) = delete;
  PrefixWatcher& operator=(const PrefixWatcher&) = delete;

  // No callback runs after Stop() returns. Idempotent.
  void Stop();

 private:
  void Run();
  enum class StreamEnd { kBroken, kCompacted, kStopped };
  // One Watch stream, until it breaks, is cancelled or reports compaction
  // (then *compact_revision is set).
  StreamEnd WatchOnce(int64_t* compact_revision, bool* created);
  bool SleepFor(absl::Duration d);  // False if stopped meanwhile.

  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  const std::string prefix_;
  int64_t next_revision_;  // Only the thread touches it; 0: unknown yet.
  Callbacks callbacks_;    // Only the thread touches them.

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // In flight.
  std::thread thread_;  // Last: starts once everything else is set.
};

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_PREFIX_WATCHER_H_
