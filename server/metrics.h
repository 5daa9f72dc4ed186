// Metrics: the service's Prometheus metrics and the /metrics HTTP endpoint.
//
// Names follow Prometheus conventions (sipresolver_ prefix, base units,
// _total counters, histograms) and every label has a small fixed value set:
// method names of our own service, status code names, record types, outcome
// names. Never a device, a client address or a queried name as a label.
// Thread-safe (prometheus-cpp metrics are atomic).
#ifndef SIPRESOLVER_SERVER_METRICS_H_
#define SIPRESOLVER_SERVER_METRICS_H_

#include <array>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/dns/caching_resolver.h"
#include "lib/health/health_tracker.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/metrics_http.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class Metrics : public dns::DnsObserver, public health::HealthObserver {
 public:
  Metrics();

  // Serves /metrics on `listen` ("HOST:PORT", "[IPV6]:PORT"; port 0 picks
  // one).
  absl::Status Serve(const std::string& listen);
  // The bound port once serving, else 0.
  int port() const;

  // `method` is the RPC name ("Resolve"); `code` a gRPC status code number.
  void OnRpc(absl::string_view method, int code);
  void OnResolveDone(absl::Duration latency);
  void SetServing(bool serving);
  void SetStreamLimit(int max_streams);  // --max_streams.

  // dns::DnsObserver
  void OnCacheLookup(dns::RecordType type, dns::CacheResult result) override;
  void OnUpstreamQuery(dns::RecordType type,
                       absl::string_view outcome) override;
  void OnJoinedInFlight(dns::RecordType type) override;

  // health::HealthObserver
  void OnProbe(absl::string_view method, absl::string_view outcome,
               absl::Duration latency) override;
  void OnTransition(health::HealthState from, health::HealthState to) override;
  void OnEndpointCount(health::HealthState state, int count) override;
  void OnDisputedCount(int with_quorum, int without) override;
  void OnProbePath(bool suspect, double healthy_ratio) override;
  // A Resolve candidate the tracker refused (allowlist, caps).
  void OnProbeTargetRefused(absl::StatusCode code);

  // ReportObservation. `method` "via" or "stun".
  void OnMappingReport(absl::string_view method, bool behind_nat, bool changed);
  void OnRegistrationReport(bool success);

  // Decision streams.
  void SetWatchCounts(int watchers, int streams);
  void OnDecisionPublished(int state);  // v1::DecisionState number.
  // An agent's current decision went from `from` to `to` (the default
  // instance: not connected).
  void OnAgentDecision(const v1::Decision& from, const v1::Decision& to);
  // From an event (health change) to the last agent's decision offered.
  void OnFanOut(absl::Duration latency);
  void OnSlowStreamDropped();

  // Probing shared through etcd (--etcd_endpoints); absent without it.
  void SetEtcdSession(bool active);
  void SetFleetReplicas(int replicas);    // Live replicas this one sees.
  void SetOwnedEndpoints(int endpoints);  // This replica probes them.
  // From another replica's verdict (its clock) to this one taking it over.
  void OnSharedVerdictLag(absl::Duration lag);
  // The DNS face (--dns_face_socket): one PowerDNS lookup, by outcome
  // ("answered", "nodata", "nxdomain", "unavailable"); absent without it.
  void OnDnsFaceLookup(absl::string_view outcome);

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Histogram& resolve_duration_;
  prometheus::Family<prometheus::Counter>& dns_upstream_;
  prometheus::Family<prometheus::Counter>& dns_cache_;
  prometheus::Family<prometheus::Counter>& dns_joins_;
  prometheus::Gauge& serving_;
  prometheus::Gauge& stream_limit_;
  prometheus::Family<prometheus::Counter>& probes_;
  prometheus::Family<prometheus::Histogram>& probe_duration_;
  prometheus::Family<prometheus::Gauge>& endpoints_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Counter>& mapping_reports_;
  prometheus::Family<prometheus::Counter>& registration_reports_;
  prometheus::Gauge& watchers_;
  prometheus::Gauge& streams_;
  // By v1::DecisionState number (0 = unspecified), looked up once: both
  // move for every agent at every fan-out.
  std::array<prometheus::Counter*, 4> decisions_;
  std::array<prometheus::Gauge*, 4> agents_;
  prometheus::Gauge& unconfirmed_agents_;
  prometheus::Family<prometheus::Gauge>& disputed_;
  prometheus::Gauge& probe_path_suspect_;
  prometheus::Gauge& probe_healthy_ratio_;
  prometheus::Histogram& fanout_;
  prometheus::Counter& slow_dropped_;
  prometheus::Family<prometheus::Gauge>& etcd_session_;
  prometheus::Family<prometheus::Gauge>& fleet_replicas_;
  prometheus::Family<prometheus::Gauge>& owned_endpoints_;
  prometheus::Family<prometheus::Histogram>& verdict_lag_;
  prometheus::Family<prometheus::Counter>& dns_face_lookups_;
  std::unique_ptr<MetricsHttpServer> http_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_METRICS_H_
