// EtcdClient: the few etcd v3 operations sipresolver's replicas share state
// through (membership under a lease, shared endpoint health, "create if
// absent"), over one gRPC channel to etcd (proto/etcd, our subset of etcd's
// API). LeaseKeeper (lease_keeper.h) and PrefixWatcher (prefix_watcher.h)
// run the long-lived streams.
//
// Usage:
//   EtcdClientOptions options;
//   options.endpoints = "127.0.0.1:2379";
//   auto client = EtcdClient::Create(options);
//   auto lease = (*client)->Grant(absl::Seconds(10));
//   (*client)->CreateIfAbsent("/sipresolver/replicas/r1", "addr", lease->id);
//   auto keeper = (*client)->KeepAlive(*lease, on_lost);
//
// Every operation has its own deadline (request_timeout) and waits for a
// connection within it, so a member that is down or restarting costs time:
// DEADLINE_EXCEEDED once it passes. A connection that breaks under a call
// fails it with UNAVAILABLE; reads are then retried within the deadline,
// writes are not (etcd may have applied them): the caller repeats a Put, and
// after CreateIfAbsent fails so reads the key to see whether it is its own.
// The same holds for etcd's own UNAVAILABLE while a cluster elects a new
// leader ("request timed out, possibly due to previous leader failure",
// ~7 s after the write with etcd's default timings).
// Errors keep gRPC's code (the numbers are absl's).
//
// Thread-safe; the channel and stubs are shared by all callers. A thread of
// its own keeps the channel's connections watched while no call is in
// flight (gRPC's synchronous API polls them only during calls, and its
// backup poller every 5 s), so that a member that died is noticed at once
// rather than by the next call failing on its dead connection. The
// destructor joins it (within 200 ms).
//
// Unlike the engine libraries this one speaks gRPC (to etcd), so it is a
// library of its own (sipresolver_etcd).
#ifndef SIPRESOLVER_SERVER_ETCD_ETCD_CLIENT_H_
#define SIPRESOLVER_SERVER_ETCD_ETCD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcd_v3.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/security/credentials.h"
#include "server/etcd/lease_keeper.h"
#include "server/etcd/prefix_watcher.h"

namespace sipresolver::etcd {

struct EtcdClientOptions {
  // "host:port[,host:port...]" (--etcd_endpoints): one member by name or
  // address, or several members as IP addresses ("127.0.0.1:2379,
  // 127.0.0.1:22379" or "[::1]:2379,[::1]:22379"), which the channel
  // balances round robin; any member serves any request.
  std::string endpoints;
  // How to reach etcd; null is plaintext. For TLS the caller passes e.g.
  // grpc::SslCredentials({.pem_root_certs = ..., ...}).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Deadline of each unary operation.
  absl::Duration request_timeout = absl::Seconds(5);
};

// One key as etcd stores it.
struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // 0: none.
};

// Keys read at one revision of the store.
struct EtcdRange {
  std::vector<EtcdKeyValue> kvs;  // Sorted by key.
  int64_t revision = 0;           // Watch from revision + 1 to miss nothing.
};

// A granted lease: etcd may raise the TTL asked for to its minimum (2 s with
// its default election timeout).
struct EtcdLease {
  int64_t id = 0;
  absl::Duration ttl;
};

class EtcdClient {
 public:
  // INVALID_ARGUMENT names the endpoint and the rule it broke; no
  // connection is made yet.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(
      const EtcdClientOptions& options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The gRPC target for `endpoints` (see EtcdClientOptions), e.g.
  // "ipv4:127.0.0.1:2379,127.0.0.1:22379". Exposed for tests.
  static absl::StatusOr<std::string> ChannelTarget(absl::string_view endpoints);
  // The end of the key range holding every key that starts with `prefix`
  // (etcd's convention: the prefix with its last byte below 0xff
  // incremented; "\0", all keys, for "" or only 0xff bytes).
  static std::string PrefixEnd(absl::string_view prefix);

  absl::StatusOr<EtcdLease> Grant(absl::Duration ttl);
  // Ends the lease and deletes every key attached to it. NOT_FOUND if it
  // had expired or been revoked already. `timeout` shortens the deadline
  // (waiting longer than the lease's TTL is pointless: it expires anyway).
  absl::Status Revoke(int64_t lease,
                      std::optional<absl::Duration> timeout = std::nullopt);

  // Writes `key`, attached to `lease` (0: none). Returns the new revision.
  absl::StatusOr<int64_t> Put(absl::string_view key, absl::string_view value,
                              int64_t lease = 0);
  // Writes `key` only if it does not exist, in one transaction (compare
  // create_revision == 0). ALREADY_EXISTS if it does.
  absl::Status CreateIfAbsent(absl::string_view key, absl::string_view value,
                              int64_t lease = 0);
  // nullopt if the key does not exist.
  absl::StatusOr<std::optional<EtcdKeyValue>> Get(absl::string_view key);
  absl::StatusOr<EtcdRange> GetPrefix(absl::string_view prefix);
  // Returns how many keys were deleted.
  absl::StatusOr<int64_t> Delete(absl::string_view key);
  absl::StatusOr<int64_t> DeletePrefix(absl::string_view prefix);
  // Forgets the history before `revision` (watches from earlier revisions
  // then report compaction). Returns once etcd has removed it.
  absl::Status Compact(int64_t revision);

  // Keeps `lease` alive until the keeper is stopped or destroyed; see
  // lease_keeper.h.
  std::unique_ptr<LeaseKeeper> KeepAlive(const EtcdLease& lease,
                                         LeaseKeeper::LostCallback on_lost);
  // Watches every key under `prefix` from `start_revision` (0: from now);
  // see prefix_watcher.h.
  std::unique_ptr<PrefixWatcher> WatchPrefix(
      std::string prefix, int64_t start_revision,
      PrefixWatcher::Callbacks callbacks);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  EtcdClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  void Prepare(grpc::ClientContext& context) const;
  absl::StatusOr<EtcdRange> Range(std::string key, std::string range_end);
  absl::StatusOr<int64_t> DeleteRange(std::string key, std::string range_end);
  void WatchConnections();  // The connection watch thread.

  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration request_timeout_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;

  grpc::CompletionQueue connection_events_;  // Only the thread polls it.
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread connection_watch_;  // Last: starts once the rest is set.
};

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_ETCD_CLIENT_H_
