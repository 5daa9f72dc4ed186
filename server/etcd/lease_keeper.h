// LeaseKeeper: keeps one etcd lease alive from its own thread, so that the
// keys attached to it (a replica's membership key) live exactly as long as
// the process can reach etcd. Made by EtcdClient::KeepAlive.
//
// Every ttl/3 it refreshes the lease over a LeaseKeepAlive stream of its
// own, bounded by a deadline (a blocking read of a long-lived stream could
// not be bounded with gRPC's synchronous API), and retries failures at short
// intervals. It reports the lease lost, once, and stops when
//  - etcd answers that the lease is gone (TTL 0: expired or revoked):
//    NOT_FOUND; or
//  - no refresh succeeded for a whole TTL since the last one was sent (etcd
//    unreachable): UNAVAILABLE or DEADLINE_EXCEEDED with the last error.
//    The lease may still exist if etcd was only slow; the owner treats it
//    as lost either way and starts again with a new lease.
//
// Threading: on_lost runs on the keeper's thread; the owner hands it over
// to its own thread (e.g. posts a task) and must not Stop() or destroy the
// keeper from inside it. Stop() is prompt (it cancels the refresh in
// flight) and the destructor stops; no thread outlives the object.
#ifndef SIPRESOLVER_SERVER_ETCD_LEASE_KEEPER_H_
#define SIPRESOLVER_SERVER_ETCD_LEASE_KEEPER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcd_v3.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace sipresolver::etcd {

class LeaseKeeper {
 public:
  using LostCallback = absl::AnyInvocable<void(absl::Status why)>;

  // Starts the thread; the first refresh is at once, then every ttl/3.
  LeaseKeeper(const std::shared_ptr<grpc::Channel>& channel, int64_t lease,
              absl::Duration ttl, LostCallback on_lost);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Stops refreshing (the lease then expires after its TTL unless revoked).
  // on_lost is not called after Stop() returns. Idempotent.
  void Stop();

  int64_t lease() const { return lease_; }
  // Refreshes etcd answered with the lease alive (for metrics and tests).
  int64_t refreshes() const { return refreshes_.load(); }

 private:
  void Run();
  // One refresh, bounded by `deadline`: the lease's new TTL (zero or less:
  // the lease is gone), or why it failed.
  absl::StatusOr<absl::Duration> Refresh(absl::Time deadline);
  // Sleeps until `until`; false if stopped meanwhile.
  bool SleepUntil(absl::Time until);

  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  const int64_t lease_;
  const absl::Duration ttl_;
  LostCallback on_lost_;  // Only the thread touches it.
  std::atomic<int64_t> refreshes_{0};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // In flight.
  std::thread thread_;  // Last: starts once everything else is set.
};

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_LEASE_KEEPER_H_
