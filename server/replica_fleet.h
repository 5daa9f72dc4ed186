// ReplicaFleet: the daemon's side of sharing probes with the other replicas
// through etcd (--etcd_endpoints), so that an ITSP's registrar gets one
// probe per interval however many replicas there are (ENGINEERING.md,
// "Many replicas"; the keys: fleet_records.h).
//
//  - Who probes: an endpoint's owners are the top --probe_owners of a
//    rendezvous ranking over the live replicas that need it (its wanters:
//    each replica holds a `wanted` key for every endpoint its tracker
//    tracks), taking turns so that together they probe once per interval
//    (cluster::ScheduleFor). Owners always need the endpoint, and an
//    endpoint nobody needs is probed by nobody.
//  - What they found: an owner writes each result that changes the
//    verdict (HealthTracker's probed listener) as the endpoint's `health`
//    record; every replica adopts the records of others as if its own
//    probes had found them (HealthTracker::AdoptShared).
//  - Device evidence: a replica holds an `evidence` key with what its own
//    agents reported about an endpoint while the probes fail; every
//    replica counts the others' toward fail static's quorum
//    (HealthTracker::AdoptEvidence).
//  - Faults: while the session is inactive the replica keeps the last
//    wanters it saw and probes by cluster::FallbackSchedule (owners only,
//    each at most once per interval); decisions go on from what it knows.
//    Before the first session it is alone as far as it knows, and probes
//    everything it needs.
//
// It implements the tracker's ProbeAssignment. Data from etcd never makes
// the replica probe anything new: records only reach endpoints the tracker
// already tracks (allowed by --probe_allow, needed by its own agents).
//
// Created and destroyed on any thread but the loop's, before and after the
// tracker's use of it; everything else on the loop thread. Stop() before
// the loop stops: nothing is posted after it returns.
#ifndef SIPRESOLVER_SERVER_REPLICA_FLEET_H_
#define SIPRESOLVER_SERVER_REPLICA_FLEET_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/cluster/probe_ownership.h"
#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/health/health_tracker.h"
#include "lib/health/probe_assignment.h"
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
  int probe_owners = 2;  // Replicas probing each endpoint (--probe_owners).
};

class ReplicaFleet : public health::ProbeAssignment {
 public:
  // INVALID_ARGUMENT for bad endpoints, TLS files or session options. Does
  // not wait for etcd: the session starts in the background. `tracker`
  // probes every `interval` (its --probe_interval); `wall_clock` is what
  // schedules are anchored on.
  static absl::StatusOr<std::unique_ptr<ReplicaFleet>> Start(
      const FleetConfig& config, EventLoop& loop, Metrics& metrics,
      health::HealthTracker& tracker, absl::Duration interval,
      const Clock& wall_clock);
  ~ReplicaFleet() override;

  // Leaves the fleet (revokes the lease) and runs what the session posted
  // to the loop before it returns. Idempotent.
  void Stop();

  // health::ProbeAssignment. The turn is the first at least half an
  // interval away when a probe has just gone out (never two for one turn).
  std::optional<absl::Duration> NextTurnIn(
      const sip::Endpoint& endpoint) override;

  // Loop thread.
  bool active() const { return active_; }
  const std::set<std::string>& replicas() const { return replicas_; }

 private:
  ReplicaFleet(const FleetConfig& config, EventLoop& loop, Metrics& metrics,
               health::HealthTracker& tracker, absl::Duration interval,
               const Clock& wall_clock);
  // Loop thread, from the session.
  void OnState(bool active, const absl::Status& why);
  void OnSnapshot(const std::vector<etcd::EtcdKeyValue>& kvs);
  void OnEvents(const std::vector<etcd::WatchEvent>& events);
  // One key's new value (nullopt: deleted), from a snapshot or (`live`) a
  // watch; true if the change moves probe turns.
  bool Apply(const std::string& key, const std::optional<std::string>& value,
             bool live);
  // Loop thread, from the tracker.
  void OnTracked(const sip::Endpoint& endpoint, const std::string& domain,
                 bool tracked);
  void OnProbed(const sip::Endpoint& endpoint,
                const health::SharedHealth& health);
  void OnEvidence(const sip::Endpoint& endpoint,
                  const std::vector<health::SharedReport>& reports);
  // Hands the tracker what the fleet knows of an endpoint: the latest
  // health record and every other replica's evidence.
  void Adopt(const std::string& endpoint_key);
  // `replica`'s evidence about the endpoint, or none if it has none now.
  void AdoptEvidence(const std::string& endpoint_key,
                     const std::string& replica);
  // The assignment changed: the tracker moves its probes; metrics.
  void Reassigned();
  void CountOwned();
  void ReportReplicas();  // Metrics and the log line.

  EventLoop& loop_;
  Metrics& metrics_;
  health::HealthTracker& tracker_;
  const absl::Duration interval_;
  const Clock& wall_clock_;
  const std::string prefix_;
  const std::string self_;
  const int probe_owners_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<etcd::ReplicaSession> session_;
  // Loop thread.
  bool active_ = false;
  bool ever_active_ = false;
  std::string last_error_;  // Logged once until it changes.
  std::set<std::string> replicas_;
  // By endpoint key: the other replicas that need it (this one's own need
  // is `tracked_`).
  std::map<std::string, std::set<std::string>> wanters_;
  // What this replica's tracker tracks, by endpoint key.
  std::map<std::string, sip::Endpoint> tracked_;
  // By endpoint key: the latest record of another replica's probes.
  std::map<std::string, health::SharedHealth> records_;
  // By endpoint key: when the latest verdict this replica knows was found
  // (its own or adopted), wall clock.
  std::map<std::string, absl::Time> verdict_at_;
  // By endpoint key, then replica: its evidence record as etcd holds it
  // (decoded when adopted, so that the reports' ages are current).
  std::map<std::string, std::map<std::string, std::string>> evidence_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_REPLICA_FLEET_H_
