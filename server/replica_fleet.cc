#include "server/replica_fleet.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "server/log.h"

namespace sipresolver::server {

absl::StatusOr<std::unique_ptr<ReplicaFleet>> ReplicaFleet::Start(
    const FleetConfig& config, EventLoop& loop, Metrics& metrics) {
  if (config.probe_owners < 1) {
    return absl::InvalidArgumentError("probe_owners must be >= 1");
  }
  if (absl::Status s = etcd::ReplicaSession::Validate(config.session);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeEtcdCredentials(config.etcd_tls);
  if (!credentials.ok()) return credentials.status();
  etcd::EtcdClientOptions options;
  options.endpoints = config.etcd_endpoints;
  options.credentials = *std::move(credentials);
  options.request_timeout = config.request_timeout;
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(options);
  if (!client.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd_endpoints: ", client.status().message()));
  }
  std::unique_ptr<ReplicaFleet> fleet(new ReplicaFleet(config, loop, metrics));
  fleet->client_ = *std::move(client);
  metrics.SetEtcdSession(false);
  ReplicaFleet* f = fleet.get();
  fleet->session_ = std::make_unique<etcd::ReplicaSession>(
      *fleet->client_, config.session,
      etcd::ReplicaSession::Callbacks{
          .on_state =
              [f](bool active, absl::Status why) {
                f->loop_.Post([f, active, why = std::move(why)] {
                  f->OnState(active, why);
                });
              },
          .on_replicas =
              [f](std::vector<std::string> replicas) {
                f->loop_.Post([f, replicas = std::move(replicas)]() mutable {
                  f->OnReplicas(std::move(replicas));
                });
              }});
  Log("sharing probes through etcd",
      {{"etcd_endpoints", config.etcd_endpoints},
       {"etcd_tls", credentials->get() == nullptr ? "off" : "on"},
       {"key", fleet->session_->key()}});
  return fleet;
}

ReplicaFleet::ReplicaFleet(const FleetConfig& config, EventLoop& loop,
                           Metrics& metrics)
    : loop_(loop),
      metrics_(metrics),
      replica_id_(config.session.replica_id),
      probe_owners_(config.probe_owners),
      membership_({config.session.replica_id}, config.probe_owners) {}

ReplicaFleet::~ReplicaFleet() { Stop(); }

void ReplicaFleet::Stop() {
  if (session_ == nullptr) return;
  session_.reset();       // Joins its threads: nothing more is posted.
  loop_.RunSync([] {});   // What was posted runs before the fleet goes.
}

void ReplicaFleet::OnState(bool active, const absl::Status& why) {
  metrics_.SetEtcdSession(active);
  if (active) {
    last_error_.clear();
    Log("etcd session active: this replica shares probing",
        {{"replica_id", replica_id_}});
  } else if (why.ToString() != last_error_) {
    last_error_ = why.ToString();
    Log(Severity::kWarning,
        "etcd session inactive; retrying, and deciding meanwhile from what "
        "this replica knows",
        {{"replica_id", replica_id_}, {"error", last_error_}});
  }
  if (active_ == active) return;
  active_ = active;
  if (listener_) listener_();
}

void ReplicaFleet::OnReplicas(std::vector<std::string> replicas) {
  cluster::Membership membership(std::move(replicas), probe_owners_);
  metrics_.SetFleetReplicas(static_cast<int>(membership.replicas().size()));
  if (membership == membership_) return;
  membership_ = std::move(membership);
  Log("replicas", {{"live", absl::StrJoin(membership_.replicas(), ",")},
                   {"count", membership_.replicas().size()}});
  if (listener_) listener_();
}

}  // namespace sipresolver::server
