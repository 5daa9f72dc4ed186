// ReplicaFleet: the daemon's side of sharing probes with the other replicas
// through etcd (--etcd_endpoints). It runs this replica's ReplicaSession and
// hands what the session reports to the event loop, where the live replicas
// are kept as a cluster::Membership for the probing that divides endpoints
// by it; it logs each change of the session's state and counts it in
// metrics (sipresolver_etcd_session_active, sipresolver_fleet_replicas).
//
// While the session is inactive (etcd unreachable, the id still held by a
// previous run) the last membership stays as it was: what a replica does
// without etcd is decided by its users, from active() and membership().
//
// Created and destroyed on any thread but the loop's; membership(),
// active() and the listener belong to the loop thread. Stop() before the
// loop stops: nothing is posted after it returns.
#ifndef SIPRESOLVER_SERVER_REPLICA_FLEET_H_
#define SIPRESOLVER_SERVER_REPLICA_FLEET_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/cluster/probe_ownership.h"
#include "lib/core/event_loop.h"
#include "server/etcd/etcd_client.h"
#include "server/etcd/replica_session.h"
#include "server/metrics.h"
#include "server/server_security.h"

namespace sipresolver::server {

struct FleetConfig {
  // "HOST:PORT[,...]"; empty: this replica works alone and etcd is unused.
  std::string etcd_endpoints;
  EtcdTlsFiles etcd_tls;
  etcd::ReplicaSessionOptions session;
  absl::Duration request_timeout = absl::Seconds(5);  // Of each etcd call.
  int probe_owners = 2;  // Replicas probing each endpoint.
};

class ReplicaFleet {
 public:
  // INVALID_ARGUMENT for bad endpoints, TLS files or session options. Does
  // not wait for etcd: the session starts in the background.
  static absl::StatusOr<std::unique_ptr<ReplicaFleet>> Start(
      const FleetConfig& config, EventLoop& loop, Metrics& metrics);
  ~ReplicaFleet();

  // Leaves the fleet (revokes the lease) and runs what the session posted
  // to the loop before it returns. Idempotent.
  void Stop();

  // Loop thread.
  bool active() const { return active_; }
  const cluster::Membership& membership() const { return membership_; }
  const std::string& replica_id() const { return replica_id_; }
  // Called on the loop after membership() or active() changed.
  void SetListener(std::function<void()> listener) {
    listener_ = std::move(listener);
  }

 private:
  ReplicaFleet(const FleetConfig& config, EventLoop& loop, Metrics& metrics);
  void OnState(bool active, const absl::Status& why);  // Loop thread.
  void OnReplicas(std::vector<std::string> replicas);  // Loop thread.

  EventLoop& loop_;
  Metrics& metrics_;
  const std::string replica_id_;
  const int probe_owners_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<etcd::ReplicaSession> session_;
  // Loop thread.
  bool active_ = false;
  std::string last_error_;  // Logged once until it changes.
  cluster::Membership membership_;
  std::function<void()> listener_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_REPLICA_FLEET_H_
