#include "server/metrics.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace sipresolver::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// 0.5 ms .. 10 s: a cache hit is sub-millisecond, a DNS timeout is seconds.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

// v1::DecisionState numbers as label values.
std::string DecisionStateLabel(int state) {
  static constexpr absl::string_view kStates[] = {
      "unspecified", "searching", "active", "no_working_server"};
  return std::string(state >= 0 && state < 4 ? kStates[state] : kStates[0]);
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpcs_(BuildCounter()
                .Name("sipresolver_rpcs_total")
                .Help("RPCs handled, by method and gRPC status code.")
                .Register(*registry_)),
      resolve_duration_(BuildHistogram()
                            .Name("sipresolver_resolve_duration_seconds")
                            .Help("Time from a Resolve request to its answer.")
                            .Register(*registry_)
                            .Add({}, LatencyBuckets())),
      dns_upstream_(BuildCounter()
                        .Name("sipresolver_dns_upstream_queries_total")
                        .Help("DNS queries sent upstream, by record type and "
                              "outcome (answer, nxdomain, nodata, timeout, "
                              "malformed, error).")
                        .Register(*registry_)),
      dns_cache_(BuildCounter()
                     .Name("sipresolver_dns_cache_lookups_total")
                     .Help("DNS cache lookups by record type and result (hit, "
                           "miss, stale = served past TTL after a DNS "
                           "failure).")
                     .Register(*registry_)),
      dns_joins_(BuildCounter()
                     .Name("sipresolver_dns_inflight_joins_total")
                     .Help("Lookups that joined a query already in flight "
                           "instead of sending their own.")
                     .Register(*registry_)),
      serving_(BuildGauge()
                   .Name("sipresolver_serving")
                   .Help("1 while the gRPC service is serving, 0 while it "
                         "drains.")
                   .Register(*registry_)
                   .Add({})),
      stream_limit_(BuildGauge()
                        .Name("sipresolver_decision_streams_limit")
                        .Help("WatchDecision streams a pod holds at most "
                              "(--max_streams), for alerts relative to it.")
                        .Register(*registry_)
                        .Add({})),
      probes_(BuildCounter()
                  .Name("sipresolver_probes_total")
                  .Help("SIP probes completed, by method and outcome (success, "
                        "failure = error reply, timeout, network_error).")
                  .Register(*registry_)),
      probe_duration_(BuildHistogram()
                          .Name("sipresolver_probe_duration_seconds")
                          .Help("Time from a probe's first request to its "
                                "final response.")
                          .Register(*registry_)),
      endpoints_(BuildGauge()
                     .Name("sipresolver_endpoints")
                     .Help("Endpoints being probed, by health state.")
                     .Register(*registry_)),
      transitions_(BuildCounter()
                       .Name("sipresolver_endpoint_transitions_total")
                       .Help("Endpoint health state changes, by from and to.")
                       .Register(*registry_)),
      refused_(
          BuildCounter()
              .Name("sipresolver_probe_targets_refused_total")
              .Help("Watched candidates not probed (the watch is refused): "
                    "code PERMISSION_DENIED (not allowed by --probe_allow) or "
                    "RESOURCE_EXHAUSTED (endpoint limits).")
              .Register(*registry_)),
      mapping_reports_(
          BuildCounter()
              .Name("sipresolver_nat_reports_total")
              .Help("Mapped addresses agents reported, by how they "
                    "learned it (via, stun), whether the agent is "
                    "behind NAT, and whether the mapping changed.")
              .Register(*registry_)),
      registration_reports_(
          BuildCounter()
              .Name("sipresolver_reported_registrations_total")
              .Help("Registrations agents reported, by outcome "
                    "(success = 2xx, failure).")
              .Register(*registry_)),
      watchers_(BuildGauge()
                    .Name("sipresolver_watchers")
                    .Help("Profile watchers (distinct profiles being watched).")
                    .Register(*registry_)
                    .Add({})),
      streams_(BuildGauge()
                   .Name("sipresolver_decision_streams")
                   .Help("Open WatchDecision streams (connected agents).")
                   .Register(*registry_)
                   .Add({})),
      unconfirmed_agents_(
          BuildGauge()
              .Name("sipresolver_unconfirmed_agents")
              .Help("Connected agents whose current decision the service could "
                    "not confirm (assurance unconfirmed: fail static, the "
                    "device's own choice).")
              .Register(*registry_)
              .Add({})),
      disputed_(
          BuildGauge()
              .Name("sipresolver_disputed_endpoints")
              .Help(
                  "Endpoints whose probes fail while agents report registering "
                  "there (is the service banned or its egress blocked?), by "
                  "whether the reporters reach --device_evidence_quorum (then "
                  "decisions count the endpoint as working).")
              .Register(*registry_)),
      probe_path_suspect_(
          BuildGauge()
              .Name("sipresolver_probe_path_suspect")
              .Help("1 while most probed endpoints of several domains fail at "
                    "once "
                    "(below --probe_panic_threshold healthy): the service "
                    "suspects "
                    "its own probe path and every decision is unconfirmed.")
              .Register(*registry_)
              .Add({})),
      probe_healthy_ratio_(
          BuildGauge()
              .Name("sipresolver_probe_healthy_ratio")
              .Help("Share of the probed endpoints with a verdict that the "
                    "probes "
                    "find healthy (1 when none has a verdict).")
              .Register(*registry_)
              .Add({})),
      fanout_(BuildHistogram()
                  .Name("sipresolver_decision_fanout_seconds")
                  .Help("From a health change to the new decisions offered to "
                        "every agent of a profile.")
                  .Register(*registry_)
                  .Add({}, LatencyBuckets())),
      slow_dropped_(BuildCounter()
                        .Name("sipresolver_decision_streams_dropped_total")
                        .Help("WatchDecision streams cut off because the agent "
                              "stopped reading (--max_stream_write_stall).")
                        .Register(*registry_)
                        .Add({})),
      etcd_session_(BuildGauge()
                        .Name("sipresolver_etcd_session_active")
                        .Help("1 while this replica holds its etcd session "
                              "(lease and membership key), 0 while it tries "
                              "to get one. Only with --etcd_endpoints.")
                        .Register(*registry_)),
      fleet_replicas_(BuildGauge()
                          .Name("sipresolver_fleet_replicas")
                          .Help("Live replicas in etcd as this one last saw "
                                "them, itself included. Only with "
                                "--etcd_endpoints.")
                          .Register(*registry_)),
      owned_endpoints_(BuildGauge()
                           .Name("sipresolver_probe_owned_endpoints")
                           .Help("Endpoints this replica probes itself; the "
                                 "others' verdicts come from their owners "
                                 "through etcd. Only with --etcd_endpoints.")
                           .Register(*registry_)),
      verdict_lag_(BuildHistogram()
                       .Name("sipresolver_shared_verdict_lag_seconds")
                       .Help("From another replica's probe verdict (its wall "
                             "clock) to this replica taking it over through "
                             "etcd's watch. Only with --etcd_endpoints.")
                       .Register(*registry_)),
      dns_face_lookups_(BuildCounter()
                            .Name("sipresolver_dns_face_lookups_total")
                            .Help("Lookups PowerDNS made through the DNS face, "
                                  "by outcome: answered, nodata, nxdomain, "
                                  "unavailable (no servers known yet: "
                                  "SERVFAIL). Only with --dns_face_socket.")
                            .Register(*registry_)) {
  auto& decisions = BuildCounter()
                        .Name("sipresolver_decisions_published_total")
                        .Help(
                            "Decisions sent to agents, by state (searching, "
                            "active, no_working_server).")
                        .Register(*registry_);
  BuildGauge()
      .Name("sipresolver_build_info")
      .Help(
          "1, labelled with the version of sipresolverd (a rollout in "
          "progress shows two).")
      .Register(*registry_)
      .Add({{"version", SIPRESOLVER_VERSION}})
      .Set(1);
  auto& agents = BuildGauge()
                     .Name("sipresolver_agents")
                     .Help(
                         "Connected agents, by the state of their current "
                         "decision (searching, active, no_working_server).")
                     .Register(*registry_);
  for (int state = 0; state < 4; ++state) {
    decisions_[state] = &decisions.Add({{"state", DecisionStateLabel(state)}});
    // "unspecified" is never a connected agent's state: no such series.
    agents_[state] = state == 0
                         ? nullptr
                         : &agents.Add({{"state", DecisionStateLabel(state)}});
  }
}

absl::Status Metrics::Serve(const std::string& listen) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
      MetricsHttpServer::Start(listen, [registry = registry_] {
        return prometheus::TextSerializer().Serialize(registry->Collect());
      });
  if (!http.ok()) {
    return absl::Status(
        http.status().code(),
        absl::StrCat("metrics_listen: ", http.status().message()));
  }
  http_ = *std::move(http);
  return absl::OkStatus();
}

int Metrics::port() const { return http_ ? http_->port() : 0; }

void Metrics::OnRpc(absl::string_view method, int code) {
  rpcs_
      .Add({{"method", std::string(method)},
            {"code",
             absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}})
      .Increment();
}

void Metrics::OnResolveDone(absl::Duration latency) {
  resolve_duration_.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::SetServing(bool serving) { serving_.Set(serving ? 1 : 0); }

void Metrics::SetStreamLimit(int max_streams) {
  stream_limit_.Set(max_streams);
}

void Metrics::OnCacheLookup(dns::RecordType type, dns::CacheResult result) {
  dns_cache_
      .Add({{"type", std::string(dns::RecordTypeName(type))},
            {"result", std::string(dns::CacheResultName(result))}})
      .Increment();
}

void Metrics::OnUpstreamQuery(dns::RecordType type, absl::string_view outcome) {
  dns_upstream_
      .Add({{"type", std::string(dns::RecordTypeName(type))},
            {"outcome", std::string(outcome)}})
      .Increment();
}

void Metrics::OnJoinedInFlight(dns::RecordType type) {
  dns_joins_.Add({{"type", std::string(dns::RecordTypeName(type))}})
      .Increment();
}

void Metrics::OnProbe(absl::string_view method, absl::string_view outcome,
                      absl::Duration latency) {
  probes_
      .Add({{"method", std::string(method)}, {"outcome", std::string(outcome)}})
      .Increment();
  if (outcome != "timeout" && outcome != "network_error") {
    probe_duration_.Add({{"method", std::string(method)}}, LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(latency));
  }
}

void Metrics::OnTransition(health::HealthState from, health::HealthState to) {
  transitions_
      .Add({{"from", std::string(health::HealthStateName(from))},
            {"to", std::string(health::HealthStateName(to))}})
      .Increment();
}

void Metrics::OnEndpointCount(health::HealthState state, int count) {
  endpoints_.Add({{"state", std::string(health::HealthStateName(state))}})
      .Set(count);
}

void Metrics::OnMappingReport(absl::string_view method, bool behind_nat,
                              bool changed) {
  mapping_reports_
      .Add({{"method", std::string(method)},
            {"behind_nat", behind_nat ? "true" : "false"},
            {"changed", changed ? "true" : "false"}})
      .Increment();
}

void Metrics::OnRegistrationReport(bool success) {
  registration_reports_.Add({{"outcome", success ? "success" : "failure"}})
      .Increment();
}

void Metrics::SetWatchCounts(int watchers, int streams) {
  watchers_.Set(watchers);
  streams_.Set(streams);
}

void Metrics::OnDecisionPublished(int state) {
  decisions_[state >= 0 && state < 4 ? state : 0]->Increment();
}

void Metrics::OnAgentDecision(const v1::Decision& from,
                              const v1::Decision& to) {
  if (from.state() != to.state()) {
    if (from.state() > 0 && from.state() < 4)
      agents_[from.state()]->Decrement();
    if (to.state() > 0 && to.state() < 4) agents_[to.state()]->Increment();
  }
  const bool was = from.assurance() == v1::ASSURANCE_UNCONFIRMED;
  const bool is = to.assurance() == v1::ASSURANCE_UNCONFIRMED;
  if (was != is)
    is ? unconfirmed_agents_.Increment() : unconfirmed_agents_.Decrement();
}

void Metrics::OnDisputedCount(int with_quorum, int without) {
  disputed_.Add({{"quorum", "reached"}}).Set(with_quorum);
  disputed_.Add({{"quorum", "not_reached"}}).Set(without);
}

void Metrics::OnProbePath(bool suspect, double healthy_ratio) {
  probe_path_suspect_.Set(suspect ? 1 : 0);
  probe_healthy_ratio_.Set(healthy_ratio);
}

void Metrics::OnFanOut(absl::Duration latency) {
  fanout_.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::OnSlowStreamDropped() { slow_dropped_.Increment(); }

void Metrics::SetEtcdSession(bool active) {
  etcd_session_.Add({}).Set(active ? 1 : 0);
}

void Metrics::SetFleetReplicas(int replicas) {
  fleet_replicas_.Add({}).Set(replicas);
}

void Metrics::SetOwnedEndpoints(int endpoints) {
  owned_endpoints_.Add({}).Set(endpoints);
}

void Metrics::OnSharedVerdictLag(absl::Duration lag) {
  verdict_lag_.Add({}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(std::max(lag, absl::ZeroDuration())));
}

void Metrics::OnDnsFaceLookup(absl::string_view outcome) {
  dns_face_lookups_.Add({{"outcome", std::string(outcome)}}).Increment();
}

void Metrics::OnProbeTargetRefused(absl::StatusCode code) {
  refused_.Add({{"code", absl::StatusCodeToString(code)}}).Increment();
}

}  // namespace sipresolver::server
