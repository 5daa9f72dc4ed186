#include "server/replica_fleet.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "server/fleet_records.h"
#include "server/log.h"

namespace sipresolver::server {

absl::StatusOr<std::unique_ptr<ReplicaFleet>> ReplicaFleet::Start(
    const FleetConfig& config, EventLoop& loop, Metrics& metrics,
    health::HealthTracker& tracker, absl::Duration interval,
    const Clock& wall_clock) {
  if (config.probe_owners < 1) {
    return absl::InvalidArgumentError("probe_owners: must be >= 1");
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
  options.credentials = *credentials;
  options.request_timeout = config.request_timeout;
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(options);
  if (!client.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd_endpoints: ", client.status().message()));
  }
  std::unique_ptr<ReplicaFleet> fleet(
      new ReplicaFleet(config, loop, metrics, tracker, interval, wall_clock));
  fleet->client_ = *std::move(client);
  metrics.SetEtcdSession(false);
  ReplicaFleet* f = fleet.get();
  // The tracker asks and tells on the loop; hooked up there, before the
  // session can post anything.
  loop.RunSync([f] {
    f->tracker_.SetAssignment(f);
    f->tracker_.SetTrackedListener(
        [f](const sip::Endpoint& e, const std::string& domain, bool tracked) {
          f->OnTracked(e, domain, tracked);
        });
    f->tracker_.SetProbedListener(
        [f](const sip::Endpoint& e, const health::SharedHealth& h) {
          f->OnProbed(e, h);
        });
    f->tracker_.SetEvidenceListener(
        [f](const sip::Endpoint& e,
            const std::vector<health::SharedReport>& reports) {
          f->OnEvidence(e, reports);
        });
  });
  fleet->session_ = std::make_unique<etcd::ReplicaSession>(
      *fleet->client_, config.session,
      etcd::ReplicaSession::Callbacks{
          .on_state =
              [f](bool active, absl::Status why) {
                f->loop_.Post([f, active, why = std::move(why)] {
                  f->OnState(active, why);
                });
              },
          .on_snapshot =
              [f](std::vector<etcd::EtcdKeyValue> kvs) {
                f->loop_.Post(
                    [f, kvs = std::move(kvs)] { f->OnSnapshot(kvs); });
              },
          .on_events =
              [f](std::vector<etcd::WatchEvent> events) {
                f->loop_.Post(
                    [f, events = std::move(events)] { f->OnEvents(events); });
              }});
  Log("sharing probes through etcd",
      {{"etcd_endpoints", config.etcd_endpoints},
       {"etcd_tls", credentials->get() == nullptr ? "off" : "on"},
       {"key", fleet->session_->key()},
       {"probe_owners", config.probe_owners}});
  return fleet;
}

ReplicaFleet::ReplicaFleet(const FleetConfig& config, EventLoop& loop,
                           Metrics& metrics, health::HealthTracker& tracker,
                           absl::Duration interval, const Clock& wall_clock)
    : loop_(loop),
      metrics_(metrics),
      tracker_(tracker),
      interval_(interval),
      wall_clock_(wall_clock),
      prefix_(config.session.prefix),
      self_(config.session.replica_id),
      probe_owners_(config.probe_owners) {}

ReplicaFleet::~ReplicaFleet() { Stop(); }

void ReplicaFleet::Stop() {
  if (session_ == nullptr) return;
  session_.reset();  // Joins its threads: nothing more is posted.
  loop_.RunSync([this] {
    tracker_.SetAssignment(nullptr);
    tracker_.SetTrackedListener(nullptr);
    tracker_.SetProbedListener(nullptr);
    tracker_.SetEvidenceListener(nullptr);
  });
}

std::optional<absl::Duration> ReplicaFleet::NextTurnIn(
    const sip::Endpoint& endpoint) {
  const std::string key = cluster::EndpointKey(endpoint);
  std::vector<std::string> wanters = {self_};
  if (auto it = wanters_.find(key); it != wanters_.end()) {
    wanters.insert(wanters.end(), it->second.begin(), it->second.end());
  }
  const cluster::Membership membership(std::move(wanters), probe_owners_);
  const std::optional<cluster::ProbeSchedule> schedule =
      active_ || !ever_active_
          ? cluster::ScheduleFor(membership, self_, key, interval_)
          : cluster::FallbackSchedule(membership, {self_}, self_, key,
                                      interval_);
  if (!schedule) return std::nullopt;
  const absl::Time now = wall_clock_.Now();
  return schedule->NextAt(now + interval_ / 2) - now;
}

void ReplicaFleet::OnState(bool active, const absl::Status& why) {
  metrics_.SetEtcdSession(active);
  if (active) {
    last_error_.clear();
    Log("etcd session active: probing shared with the other replicas",
        {{"replica_id", self_}, {"replicas", replicas_.size()}});
  } else if (why.ToString() != last_error_) {
    last_error_ = why.ToString();
    Log(Severity::kWarning,
        "etcd session inactive; probing this replica's last known share "
        "meanwhile (fall-back), retrying",
        {{"replica_id", self_}, {"error", last_error_}});
  }
  if (active_ == active) return;
  active_ = active;
  ever_active_ = ever_active_ || active;
  Reassigned();
}

void ReplicaFleet::OnSnapshot(const std::vector<etcd::EtcdKeyValue>& kvs) {
  replicas_.clear();
  wanters_.clear();
  records_.clear();  // verdict_at_ stays: what this replica knows stays.
  // Evidence that is gone by now must not count: forgotten, then what the
  // snapshot holds is taken in again.
  std::map<std::string, std::map<std::string, std::string>> before;
  before.swap(evidence_);
  for (const auto& [key, by_replica] : before) {
    for (const auto& [replica, value] : by_replica) AdoptEvidence(key, replica);
  }
  for (const etcd::EtcdKeyValue& kv : kvs) Apply(kv.key, kv.value, false);
  ReportReplicas();
  Reassigned();
}

void ReplicaFleet::ReportReplicas() {
  metrics_.SetFleetReplicas(static_cast<int>(replicas_.size()));
  Log("replicas",
      {{"live", absl::StrJoin(replicas_, ",")}, {"count", replicas_.size()}});
}

void ReplicaFleet::OnEvents(const std::vector<etcd::WatchEvent>& events) {
  const size_t replicas_before = replicas_.size();
  bool moved = false;
  for (const etcd::WatchEvent& e : events) {
    const bool put = e.type == etcd::WatchEvent::Type::kPut;
    moved |=
        Apply(e.key, put ? std::optional<std::string>(e.value) : std::nullopt,
              /*live=*/true);
  }
  if (replicas_.size() != replicas_before) ReportReplicas();
  if (moved) Reassigned();
}

bool ReplicaFleet::Apply(const std::string& key,
                         const std::optional<std::string>& value, bool live) {
  std::optional<FleetKey> k = ParseFleetKey(prefix_, key);
  if (!k) return false;  // Not ours to read (a newer replica's, or junk).
  if (k->kind == "replicas") {
    if (value) {
      replicas_.insert(k->replica);
    } else {
      replicas_.erase(k->replica);
    }
    return false;
  }
  if (k->kind == "wanted") {
    if (k->replica == self_) return false;  // Ours: `tracked_` says it.
    std::set<std::string>& wanters = wanters_[k->endpoint_key];
    const bool changed =
        value ? wanters.insert(k->replica).second : wanters.erase(k->replica);
    if (wanters.empty()) wanters_.erase(k->endpoint_key);
    return changed && tracked_.count(k->endpoint_key) > 0;
  }
  if (k->kind == "evidence") {
    if (k->replica == self_) return false;
    if (value) {
      evidence_[k->endpoint_key][k->replica] = *value;
    } else if (auto it = evidence_.find(k->endpoint_key);
               it != evidence_.end()) {
      it->second.erase(k->replica);
      if (it->second.empty()) evidence_.erase(it);
    }
    AdoptEvidence(k->endpoint_key, k->replica);
    return false;
  }
  // health
  if (!value) {
    records_.erase(k->endpoint_key);
    verdict_at_.erase(k->endpoint_key);
    return false;
  }
  absl::StatusOr<HealthRecord> record = DecodeHealthRecord(*value);
  if (!record.ok()) {
    Log(Severity::kWarning, "ignoring a bad health record in etcd",
        {{"key", key}, {"error", record.status().ToString()}});
    return false;
  }
  if (record->origin == self_) return false;  // Our own, come back.
  // Older than a verdict this replica knows (its own, found while etcd was
  // away and written after this snapshot): not taken over.
  auto known = verdict_at_.find(k->endpoint_key);
  if (known != verdict_at_.end() && record->at <= known->second) return false;
  verdict_at_[k->endpoint_key] = record->at;
  if (live && record->at != absl::InfinitePast()) {
    metrics_.OnSharedVerdictLag(wall_clock_.Now() - record->at);
  }
  records_[k->endpoint_key] = record->health;
  Adopt(k->endpoint_key);
  return false;
}

void ReplicaFleet::Adopt(const std::string& endpoint_key) {
  auto tracked = tracked_.find(endpoint_key);
  if (tracked == tracked_.end()) return;  // Kept for when it is.
  if (auto record = records_.find(endpoint_key); record != records_.end()) {
    tracker_.AdoptShared(tracked->second, record->second);
  }
  if (auto it = evidence_.find(endpoint_key); it != evidence_.end()) {
    for (const auto& [replica, value] : it->second) {
      AdoptEvidence(endpoint_key, replica);
    }
  }
}

void ReplicaFleet::AdoptEvidence(const std::string& endpoint_key,
                                 const std::string& replica) {
  auto tracked = tracked_.find(endpoint_key);
  if (tracked == tracked_.end()) return;  // Kept for when it is.
  std::vector<health::SharedReport> reports;
  if (auto it = evidence_.find(endpoint_key); it != evidence_.end()) {
    if (auto value = it->second.find(replica); value != it->second.end()) {
      absl::StatusOr<std::vector<health::SharedReport>> decoded =
          DecodeReports(value->second, wall_clock_.Now());
      if (!decoded.ok()) {
        Log(Severity::kWarning, "ignoring bad device evidence in etcd",
            {{"replica", replica}, {"error", decoded.status().ToString()}});
      } else {
        reports = *std::move(decoded);
      }
    }
  }
  tracker_.AdoptEvidence(tracked->second, replica, reports);
}

void ReplicaFleet::OnTracked(const sip::Endpoint& endpoint,
                             const std::string& domain, bool tracked) {
  const std::string key = cluster::EndpointKey(endpoint);
  const std::string wanted = WantedKey(prefix_, key, self_);
  if (tracked) {
    tracked_.emplace(key, endpoint);
    session_->Hold(wanted, domain);

    // What the fleet knows already, once Touch is done with the endpoint.
    loop_.Post([this, key] { Adopt(key); });
  } else {
    tracked_.erase(key);
    session_->Release(wanted);
  }
  CountOwned();
}

void ReplicaFleet::OnEvidence(
    const sip::Endpoint& endpoint,
    const std::vector<health::SharedReport>& reports) {
  const std::string key =
      EvidenceKey(prefix_, cluster::EndpointKey(endpoint), self_);
  if (reports.empty()) {
    session_->Release(key);
  } else {
    session_->Hold(key, EncodeReports(reports, wall_clock_.Now()));
  }
}

void ReplicaFleet::OnProbed(const sip::Endpoint& endpoint,
                            const health::SharedHealth& health) {
  const std::string key = cluster::EndpointKey(endpoint);
  const absl::Time now = wall_clock_.Now();
  verdict_at_[key] = now;
  session_->Write(HealthKey(prefix_, key),
                  EncodeHealthRecord({self_, now, health}));
}

void ReplicaFleet::Reassigned() {
  tracker_.Reassign();
  CountOwned();
}

void ReplicaFleet::CountOwned() {
  int owned = 0;
  for (const auto& [key, endpoint] : tracked_) {
    if (NextTurnIn(endpoint)) ++owned;
  }
  metrics_.SetOwnedEndpoints(owned);
}

}  // namespace sipresolver::server
