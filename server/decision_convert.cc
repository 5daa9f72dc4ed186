#include "server/decision_convert.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"
#include "server/api_convert.h"

namespace sipresolver::server {
namespace {

// Above any version this service gives (see ToWatchRequest).
constexpr uint64_t kMaxVersion = uint64_t{1} << 53;

// An endpoint the agent says it registers with: an IP literal and a port;
// the transport is the profile's. Unset (or empty) is none.
absl::StatusOr<std::optional<sip::Endpoint>> Applied(bool set,
                                                     const v1::Endpoint& e,
                                                     Transport transport,
                                                     absl::string_view field) {
  if (!set || (e.address().empty() && e.port() == 0)) return std::nullopt;
  const std::optional<std::string> address = dns::ParseIpLiteral(e.address());
  if (!address || e.port() == 0 || e.port() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": an IP address and a port 1-65535"));
  }
  return sip::Endpoint{*address, static_cast<uint16_t>(e.port()), transport};
}

absl::Status Field(absl::string_view field, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(field, s.message()));
}

absl::StatusOr<absl::Duration> Interval(const google::protobuf::Duration& d,
                                        absl::string_view field) {
  if (d.seconds() == 0 && d.nanos() == 0) return absl::Seconds(60);  // Default.
  if (d.seconds() < 0 || d.nanos() < 0 || d.seconds() > 86400) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be between 1s and 24h"));
  }
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

v1::DecisionState ToProto(decision::DecisionState state) {
  switch (state) {
    case decision::DecisionState::kSearching:
      return v1::DECISION_STATE_SEARCHING;
    case decision::DecisionState::kActive:
      return v1::DECISION_STATE_ACTIVE;
    case decision::DecisionState::kNoWorkingServer:
      return v1::DECISION_STATE_NO_WORKING_SERVER;
  }
  return v1::DECISION_STATE_UNSPECIFIED;
}

v1::Assurance ToProto(decision::Assurance assurance) {
  switch (assurance) {
    case decision::Assurance::kNone:
      return v1::ASSURANCE_UNSPECIFIED;
    case decision::Assurance::kProbes:
      return v1::ASSURANCE_PROBES;
    case decision::Assurance::kDeviceReports:
      return v1::ASSURANCE_DEVICE_REPORTS;
    case decision::Assurance::kUnconfirmed:
      return v1::ASSURANCE_UNCONFIRMED;
  }
  return v1::ASSURANCE_UNSPECIFIED;
}

}  // namespace

absl::Status ValidateAgentId(absl::string_view agent) {
  if (agent.empty() || agent.size() > kMaxAgentIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent_id: must be 1 to ", kMaxAgentIdLength, " characters"));
  }
  for (char c : agent) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "agent_id: only printable ASCII characters without spaces");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<WatchRequest> ToWatchRequest(
    const v1::WatchDecisionRequest& request) {
  WatchRequest out;
  if (absl::Status s = ValidateAgentId(request.agent_id()); !s.ok()) return s;
  out.agent_id = request.agent_id();
  // Versions are microseconds of wall-clock time plus a count of changes:
  // one past 2^53 (year 2255, and beyond what a JSON number holds exactly)
  // is no version we gave, and adding to it could wrap.
  if (request.last_applied_version() > kMaxVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("last_applied_version: ", request.last_applied_version(),
                     " is above 2^53, not a version this service gives"));
  }
  out.last_applied_version = request.last_applied_version();
  switch (request.spread_mode()) {
    case v1::SPREAD_MODE_UNSPECIFIED:
    case v1::SPREAD_MODE_SPREAD:
      out.spread_mode = decision::SpreadMode::kSpread;
      break;
    case v1::SPREAD_MODE_DEVICE_ORDER:
      out.spread_mode = decision::SpreadMode::kDeviceOrder;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("spread_mode: unknown value ", request.spread_mode()));
  }

  const v1::ItspProfile& p = request.profile();
  decision::Profile& profile = out.profile;
  profile.proxy_server = p.proxy_server();
  profile.proxy_server_port = p.proxy_server_port();
  profile.registrar_server = p.registrar_server();
  profile.registrar_server_port = p.registrar_server_port();
  profile.outbound_proxy = p.outbound_proxy();
  profile.outbound_proxy_port = p.outbound_proxy_port();
  auto transport =
      FromProto(p.proxy_server_transport(), "profile.proxy_server_transport");
  if (!transport.ok()) return transport.status();
  profile.transport = *transport;
  auto ip_version = FromProto(p.ip_version(), "profile.ip_version");
  if (!ip_version.ok()) return ip_version.status();
  profile.ip_version = *ip_version;
  profile.proxy_server_redundancy = p.proxy_server_redundancy();
  profile.secondary_registration = p.secondary_registration();
  auto primary = Interval(p.check_primary_fallback_interval(),
                          "profile.check_primary_fallback_interval");
  if (!primary.ok()) return primary.status();
  profile.check_primary_fallback_interval = *primary;
  auto secondary = Interval(p.check_secondary_fallback_interval(),
                            "profile.check_secondary_fallback_interval");
  if (!secondary.ok()) return secondary.status();
  profile.check_secondary_fallback_interval = *secondary;
  profile.keep_alive_enable = p.keep_alive_enable();
  switch (p.keep_alive_msg_type()) {
    case v1::KEEP_ALIVE_MSG_TYPE_UNSPECIFIED:
    case v1::KEEP_ALIVE_MSG_TYPE_STUN:
      profile.keep_alive_type = decision::KeepAliveType::kStun;
      break;
    case v1::KEEP_ALIVE_MSG_TYPE_OPTIONS:
      profile.keep_alive_type = decision::KeepAliveType::kOptions;
      break;
    case v1::KEEP_ALIVE_MSG_TYPE_CRLF:
      profile.keep_alive_type = decision::KeepAliveType::kCrlf;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("profile.keep_alive_msg_type: unknown value ",
                       p.keep_alive_msg_type()));
  }
  profile.keep_alive_server = p.keep_alive_server();
  profile.keep_alive_port = p.keep_alive_port();
  profile.registration_enabled =
      !p.has_registration_enabled() || p.registration_enabled();
  if (absl::Status valid = decision::ValidateProfile(profile); !valid.ok()) {
    return Field("profile.", valid);
  }
  auto primary_applied =
      Applied(request.has_applied_primary(), request.applied_primary(),
              profile.transport, "applied_primary");
  if (!primary_applied.ok()) return primary_applied.status();
  out.applied.primary = *primary_applied;
  auto secondary_applied =
      Applied(request.has_applied_secondary(), request.applied_secondary(),
              profile.transport, "applied_secondary");
  if (!secondary_applied.ok()) return secondary_applied.status();
  out.applied.secondary = *secondary_applied;
  return out;
}

void ToDecision(const decision::Decision& d, uint64_t version,
                absl::Time clock_now, absl::Time wall_now, v1::Decision& out) {
  out.set_version(version);
  out.set_state(ToProto(d.state));
  if (d.primary) {
    ToCandidate(*d.primary, *out.mutable_primary());
    out.mutable_primary()->mutable_health()->set_state(
        d.primary_health == health::HealthState::kHealthy
            ? v1::HEALTH_STATE_HEALTHY
        : d.primary_health == health::HealthState::kUnhealthy
            ? v1::HEALTH_STATE_UNHEALTHY
            : v1::HEALTH_STATE_UNKNOWN);
  }
  if (d.secondary) ToCandidate(*d.secondary, *out.mutable_secondary());
  for (const auto& c : d.primary_fallback)
    ToCandidate(c, *out.add_primary_fallback());
  for (const auto& c : d.secondary_fallback)
    ToCandidate(c, *out.add_secondary_fallback());
  for (const auto& c : d.candidates) ToCandidate(c, *out.add_candidates());
  if (d.keep_alive) {
    // The API's Endpoint has no host name: a configured keep-alive server
    // that is a name goes in address as the name, for the device to resolve.
    v1::Endpoint& k = *out.mutable_keep_alive_target();
    k.set_address(d.keep_alive->address.empty() ? d.keep_alive->host
                                                : d.keep_alive->address);
    k.set_port(d.keep_alive->port);
  }
  if (d.next_search != absl::InfiniteFuture()) {
    SetTimestamp(wall_now + (d.next_search - clock_now),
                 *out.mutable_next_search_time());
  }
  out.set_assurance(ToProto(d.assurance));
  out.set_probe_path_suspect(d.probe_path_suspect);
  out.set_reason(d.reason);
  SetTimestamp(wall_now, *out.mutable_generated_at());
}

}  // namespace sipresolver::server
