#include "server/api_convert.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sipresolver::server {
namespace {

v1::CandidateSource ToProto(dns::CandidateSource source) {
  switch (source) {
    case dns::CandidateSource::kA:
      return v1::CANDIDATE_SOURCE_A;
    case dns::CandidateSource::kAaaa:
      return v1::CANDIDATE_SOURCE_AAAA;
    case dns::CandidateSource::kSrv:
      return v1::CANDIDATE_SOURCE_SRV;
    case dns::CandidateSource::kSrvSipUdp:
      return v1::CANDIDATE_SOURCE_SRV_SIP_UDP;
    case dns::CandidateSource::kIpLiteral:
      return v1::CANDIDATE_SOURCE_IP_LITERAL;
  }
  return v1::CANDIDATE_SOURCE_UNSPECIFIED;
}

v1::RecordType ToProto(dns::RecordType type) {
  switch (type) {
    case dns::RecordType::kA:
      return v1::RECORD_TYPE_A;
    case dns::RecordType::kAaaa:
      return v1::RECORD_TYPE_AAAA;
    case dns::RecordType::kSrv:
      return v1::RECORD_TYPE_SRV;
    case dns::RecordType::kCname:
      return v1::RECORD_TYPE_CNAME;
    case dns::RecordType::kSoa:
      break;
  }
  return v1::RECORD_TYPE_UNSPECIFIED;
}

v1::LookupOutcome ToProto(dns::LookupOutcome outcome) {
  switch (outcome) {
    case dns::LookupOutcome::kAnswer:
      return v1::LOOKUP_OUTCOME_ANSWER;
    case dns::LookupOutcome::kNxDomain:
      return v1::LOOKUP_OUTCOME_NXDOMAIN;
    case dns::LookupOutcome::kNoData:
      return v1::LOOKUP_OUTCOME_NODATA;
    case dns::LookupOutcome::kNoService:
      return v1::LOOKUP_OUTCOME_NO_SERVICE;
    case dns::LookupOutcome::kUnavailable:
      return v1::LOOKUP_OUTCOME_UNAVAILABLE;
  }
  return v1::LOOKUP_OUTCOME_UNSPECIFIED;
}

absl::string_view OutcomeText(dns::LookupOutcome outcome) {
  switch (outcome) {
    case dns::LookupOutcome::kAnswer:
      return "answer";
    case dns::LookupOutcome::kNxDomain:
      return "NXDOMAIN";
    case dns::LookupOutcome::kNoData:
      return "NODATA";
    case dns::LookupOutcome::kNoService:
      return "no service";
    case dns::LookupOutcome::kUnavailable:
      return "unavailable";
  }
  return "?";
}

v1::HealthState ToProto(health::HealthState state) {
  switch (state) {
    case health::HealthState::kUnknown:
      return v1::HEALTH_STATE_UNKNOWN;
    case health::HealthState::kHealthy:
      return v1::HEALTH_STATE_HEALTHY;
    case health::HealthState::kUnhealthy:
      return v1::HEALTH_STATE_UNHEALTHY;
  }
  return v1::HEALTH_STATE_UNSPECIFIED;
}

uint32_t Seconds(absl::Duration d) {
  return static_cast<uint32_t>(
      std::clamp<int64_t>(absl::ToInt64Seconds(d), 0, UINT32_MAX));
}

}  // namespace

v1::Transport ToProto(Transport transport) {
  switch (transport) {
    case Transport::kUdp:
      return v1::TRANSPORT_UDP;
    case Transport::kTcp:
      return v1::TRANSPORT_TCP;
    case Transport::kTls:
      return v1::TRANSPORT_TLS;
  }
  return v1::TRANSPORT_UNSPECIFIED;
}

void SetDuration(absl::Duration d, google::protobuf::Duration& out) {
  out.set_seconds(absl::IDivDuration(d, absl::Seconds(1), &d));
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp& out) {
  out.set_seconds(absl::ToUnixSeconds(t));
  out.set_nanos(static_cast<int32_t>(absl::ToUnixNanos(t) % 1000000000));
}

absl::StatusOr<dns::ServerSpec> ToServerSpec(
    const v1::ResolveRequest& request) {
  dns::ServerSpec spec;
  spec.server = request.server();
  spec.port = request.port();
  spec.redundancy = request.redundancy();
  absl::StatusOr<Transport> transport =
      FromProto(request.transport(), "transport");
  if (!transport.ok()) return transport.status();
  spec.transport = *transport;
  absl::StatusOr<dns::IpVersion> ip_version =
      FromProto(request.ip_version(), "ip_version");
  if (!ip_version.ok()) return ip_version.status();
  spec.ip_version = *ip_version;
  if (absl::Status valid = dns::ValidateServerSpec(spec); !valid.ok()) {
    return valid;
  }
  return spec;
}

void ToCandidate(const dns::Candidate& c, v1::Candidate& out) {
  out.set_target(c.target);
  out.set_address(c.address);
  out.set_port(c.port);
  out.set_priority(c.priority);
  out.set_weight(c.weight);
  out.set_source(ToProto(c.source));
  out.set_ttl_seconds(Seconds(c.ttl));
}

absl::StatusOr<Transport> FromProto(v1::Transport transport,
                                    absl::string_view field) {
  switch (transport) {
    case v1::TRANSPORT_UNSPECIFIED:
    case v1::TRANSPORT_UDP:
      return Transport::kUdp;
    case v1::TRANSPORT_TCP:
      return Transport::kTcp;
    case v1::TRANSPORT_TLS:
      return Transport::kTls;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown value ", transport));
  }
}

absl::StatusOr<dns::IpVersion> FromProto(v1::IpVersion version,
                                         absl::string_view field) {
  switch (version) {
    case v1::IP_VERSION_UNSPECIFIED:
    case v1::IP_VERSION_V4:
      return dns::IpVersion::kV4;
    case v1::IP_VERSION_V6:
      return dns::IpVersion::kV6;
    case v1::IP_VERSION_DUAL:
      return dns::IpVersion::kDual;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown value ", version));
  }
}

void ToResolveResponse(const dns::Resolution& resolution,
                       v1::ResolveResponse& response) {
  for (const dns::Candidate& c : resolution.candidates) {
    ToCandidate(c, *response.add_candidates());
  }
  for (const dns::LookupRecord& l : resolution.lookups) {
    v1::Lookup* out = response.add_lookups();
    out->set_name(l.name);
    out->set_type(ToProto(l.type));
    out->set_outcome(ToProto(l.outcome));
    out->set_ttl_seconds(Seconds(l.ttl));
    out->set_from_cache(l.from_cache);
    out->set_stale(l.stale);
    out->set_record_count(l.record_count);
    out->set_detail(l.detail);
  }
}

absl::Status WithLookups(const absl::Status& status,
                         const dns::Resolution& resolution) {
  if (status.ok() || resolution.lookups.empty()) return status;
  std::string tried = absl::StrJoin(
      resolution.lookups, "; ",
      [](std::string* out, const dns::LookupRecord& l) {
        absl::StrAppend(out, dns::RecordTypeName(l.type), " ", l.name, ": ",
                        OutcomeText(l.outcome), l.stale ? " (stale)" : "");
      });
  return absl::Status(
      status.code(), absl::StrCat(status.message(), " [lookups: ", tried, "]"));
}

void ToEndpointHealth(const health::EndpointStatus& status,
                      absl::Time clock_now, absl::Time wall_now,
                      v1::EndpointHealth& out) {
  out.set_state(ToProto(status.counters.state));
  out.set_consecutive_successes(status.counters.consecutive_successes);
  out.set_consecutive_failures(status.counters.consecutive_failures);
  SetDuration(status.last_latency, *out.mutable_last_latency());
  SetDuration(status.latency_ewma, *out.mutable_latency_ewma());
  out.set_last_response_code(status.last_response_code);
  out.set_last_error(status.last_error);
  SetTimestamp(wall_now - (clock_now - status.last_change),
               *out.mutable_last_change());
  out.set_via_received(status.via_received.value_or(""));
  out.set_via_rport(status.via_rport.value_or(0));
  out.set_device_successes(status.devices.successes);
  out.set_device_failures(status.devices.failures);
  out.set_decision_state(ToProto(status.decision_state));
  out.set_devices_confirm_failure(status.devices_confirm_failure);
}

void ToServerStatus(const health::EndpointStatus& status, absl::Time clock_now,
                    absl::Time wall_now, v1::ServerStatus& out) {
  out.mutable_endpoint()->set_address(status.endpoint.address);
  out.mutable_endpoint()->set_port(status.endpoint.port);
  out.mutable_endpoint()->set_transport(ToProto(status.endpoint.transport));
  for (const std::string& domain : status.domains) out.add_domains(domain);
  ToEndpointHealth(status, clock_now, wall_now, *out.mutable_health());
}

}  // namespace sipresolver::server
