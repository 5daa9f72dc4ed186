#include "lib/decision/profile.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::decision {
namespace {

absl::Status CheckPort(absl::string_view field, uint32_t port) {
  if (port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", port, " is above 65535"));
  }
  return absl::OkStatus();
}

// An optional server must be empty, an IP literal or a valid domain name.
absl::Status CheckServer(absl::string_view field, const std::string& server) {
  if (server.empty() || dns::ParseIpLiteral(server)) return absl::OkStatus();
  if (auto name = dns::NormalizeDomainName(server); !name.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not an IP address or a valid domain name: ",
                     name.status().message()));
  }
  return absl::OkStatus();
}

absl::Status CheckInterval(absl::string_view field, absl::Duration d) {
  if (d < kMinCheckInterval || d > kMaxCheckInterval) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", absl::FormatDuration(d), " is outside [",
                     absl::FormatDuration(kMinCheckInterval), ", ",
                     absl::FormatDuration(kMaxCheckInterval), "] (S8/S9)"));
  }
  return absl::OkStatus();
}

uint32_t EffectivePort(uint32_t port, Transport transport) {
  return port != 0 ? port : dns::DefaultPort(transport);
}

absl::string_view IpVersionName(dns::IpVersion v) {
  switch (v) {
    case dns::IpVersion::kV4:
      return "v4";
    case dns::IpVersion::kV6:
      return "v6";
    case dns::IpVersion::kDual:
      return "dual";
  }
  return "v4";
}

absl::string_view KeepAliveTypeName(KeepAliveType t) {
  switch (t) {
    case KeepAliveType::kStun:
      return "stun";
    case KeepAliveType::kOptions:
      return "options";
    case KeepAliveType::kCrlf:
      return "crlf";
  }
  return "stun";
}

}  // namespace

std::string CanonicalServer(const std::string& server) {
  if (auto ip = dns::ParseIpLiteral(server)) return *ip;
  if (auto name = dns::NormalizeDomainName(server); name.ok()) return *name;
  return server;
}

absl::Status ValidateProfile(const Profile& p) {
  if (p.proxy_server.empty()) {
    return absl::InvalidArgumentError("proxy_server: must not be empty");
  }
  const std::pair<absl::string_view, const std::string*> servers[] = {
      {"proxy_server", &p.proxy_server},
      {"registrar_server", &p.registrar_server},
      {"outbound_proxy", &p.outbound_proxy},
      {"keep_alive_server", &p.keep_alive_server},
  };
  for (const auto& [field, server] : servers) {
    if (absl::Status s = CheckServer(field, *server); !s.ok()) return s;
  }
  const std::pair<absl::string_view, uint32_t> ports[] = {
      {"proxy_server_port", p.proxy_server_port},
      {"registrar_server_port", p.registrar_server_port},
      {"outbound_proxy_port", p.outbound_proxy_port},
      {"keep_alive_port", p.keep_alive_port},
  };
  for (const auto& [field, port] : ports) {
    if (absl::Status s = CheckPort(field, port); !s.ok()) return s;
  }
  if (absl::Status s = CheckInterval("check_primary_fallback_interval",
                                     p.check_primary_fallback_interval);
      !s.ok()) {
    return s;
  }
  return CheckInterval("check_secondary_fallback_interval",
                       p.check_secondary_fallback_interval);
}

RedundancyTarget TargetOf(const Profile& p) {
  if (!p.outbound_proxy.empty()) {
    return {CanonicalServer(p.outbound_proxy), p.outbound_proxy_port};
  }
  if (p.registrar_server.empty()) {
    return {CanonicalServer(p.proxy_server), p.registrar_server_port != 0
                                                 ? p.registrar_server_port
                                                 : p.proxy_server_port};
  }
  return {CanonicalServer(p.registrar_server), p.registrar_server_port};
}

bool RedundancyApplies(const Profile& p) {
  return p.proxy_server_redundancy && p.registration_enabled &&
         !dns::ParseIpLiteral(TargetOf(p).server).has_value();
}

std::string ProfileKey(const Profile& p) {
  const Transport t = p.transport;
  // All three servers are in the key, not just the S3 target: probes carry
  // the registration domain, so two profiles sharing an outbound proxy can
  // still need different probes.
  Profile without_outbound = p;
  without_outbound.outbound_proxy.clear();
  const RedundancyTarget registrar = TargetOf(without_outbound);
  std::string key = absl::StrCat(
      "proxy=", CanonicalServer(p.proxy_server), ":",
      EffectivePort(p.proxy_server_port, t), "|registrar=", registrar.server,
      ":", EffectivePort(registrar.port, t), "|outbound=");
  if (p.outbound_proxy.empty()) {
    absl::StrAppend(&key, "none");
  } else {
    absl::StrAppend(&key, CanonicalServer(p.outbound_proxy), ":",
                    EffectivePort(p.outbound_proxy_port, t));
  }
  absl::StrAppend(&key, "|transport=", TransportName(t),
                  "|ip=", IpVersionName(p.ip_version),
                  "|registration=", p.registration_enabled ? "on" : "off");
  if (RedundancyApplies(p)) {
    absl::StrAppend(
        &key, "|redundancy=on|primary_check=",
        absl::ToInt64Milliseconds(p.check_primary_fallback_interval), "ms");
    if (p.secondary_registration) {
      absl::StrAppend(
          &key, "|secondary=on|secondary_check=",
          absl::ToInt64Milliseconds(p.check_secondary_fallback_interval), "ms");
    }
  } else {
    absl::StrAppend(&key, "|redundancy=off");
  }
  if (p.keep_alive_enable) {
    absl::StrAppend(&key, "|keep_alive=", KeepAliveTypeName(p.keep_alive_type));
    if (!p.keep_alive_server.empty()) {
      absl::StrAppend(&key, ",", CanonicalServer(p.keep_alive_server), ":",
                      EffectivePort(p.keep_alive_port, t));
    }
  } else {
    absl::StrAppend(&key, "|keep_alive=off");
  }
  return key;
}

}  // namespace sipresolver::decision
