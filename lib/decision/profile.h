// Profile: the ITSP profile of a device (the API's ItspProfile), named after
// the device parameters (S12), and the pure questions the decision engine and
// the profile watchers ask about it: is it valid, which server does
// redundancy apply to (S3), does redundancy apply at all (S1/S4/S5), and which
// profiles are the same (one shared watcher per key).
//
// Plain value type; the functions are pure and thread-safe.
#ifndef SIPRESOLVER_LIB_DECISION_PROFILE_H_
#define SIPRESOLVER_LIB_DECISION_PROFILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/core/transport.h"
#include "lib/dns/device_resolver.h"

namespace sipresolver::decision {

enum class KeepAliveType { kStun, kOptions, kCrlf };  // X_KeepAliveMsgType.

struct Profile {
  // Ports are 32-bit, as in the API, so that ValidateProfile can reject a
  // value above 65535 instead of a conversion silently truncating it.
  // 0 means "not configured": 5060, or 5061 for TLS (R2).
  std::string proxy_server;  // ProxyServer. Required.
  uint32_t proxy_server_port = 0;
  std::string registrar_server;  // RegistrarServer. Empty: the proxy server.
  uint32_t registrar_server_port = 0;
  std::string outbound_proxy;  // OutboundProxy. When set, the S3 target.
  uint32_t outbound_proxy_port = 0;
  Transport transport = Transport::kUdp;  // ProxyServerTransport.
  dns::IpVersion ip_version = dns::IpVersion::kV4;
  bool proxy_server_redundancy = false;  // X_ProxyServerRedundancy (S4).
  bool secondary_registration = false;   // X_SecondaryRegistration (S9).
  absl::Duration check_primary_fallback_interval = absl::Seconds(60);    // S8.
  absl::Duration check_secondary_fallback_interval = absl::Seconds(60);  // S9.
  bool keep_alive_enable = false;  // X_KeepAliveEnable (N2).
  KeepAliveType keep_alive_type = KeepAliveType::kStun;
  std::string keep_alive_server;  // X_KeepAliveServer. Empty: see N2.
  uint32_t keep_alive_port = 0;
  bool registration_enabled = true;  // Redundancy needs it (S1).
};

// Bounds of both fallback check intervals. Below a second would turn the
// check into a busy loop; above a day is certainly a unit mistake.
inline constexpr absl::Duration kMinCheckInterval = absl::Seconds(1);
inline constexpr absl::Duration kMaxCheckInterval = absl::Hours(24);

// OK, or INVALID_ARGUMENT whose message starts with the field name and says
// the rule broken: empty proxy_server, a port above 65535, a server that is
// neither an IP literal nor a valid domain name, a check interval outside
// [1 s, 1 day], an invalid keep_alive_server. Redundancy with an IP literal is
// NOT an error: a device accepts it and simply does no redundancy (S5).
absl::Status ValidateProfile(const Profile& profile);

// The server redundancy applies to and the name the candidates come from.
struct RedundancyTarget {
  std::string server;  // Normalised: lower case, no trailing dot; IP canonical.
  uint32_t port = 0;   // 0: not configured.
};

// S3: the outbound proxy when one is set; else the registrar server, which
// defaults to the proxy server. When the registrar server is empty its port
// defaults to the proxy server's port too (the registrar IS the proxy); a
// configured registrar server keeps its own port (0 meaning the default).
RedundancyTarget TargetOf(const Profile& profile);

// A configured server in canonical form: an IP literal's canonical text, or
// the normalised domain name (lower case, no trailing dot). Text that is
// neither comes back unchanged (only possible for an unvalidated profile).
std::string CanonicalServer(const std::string& server);

// S1/S4/S5: redundancy switched on, registration enabled, and the target is a
// domain name (an IP literal has no other candidates to switch to).
bool RedundancyApplies(const Profile& profile);

// A canonical text of everything that can change what a watcher does for the
// profile: names normalised, ports 0 replaced by the transport's default,
// fields that have no effect dropped (redundancy settings when redundancy
// does not apply, keep-alive settings when keep-alive is off). Equal keys:
// one shared watcher. Meaningful only for a profile that passed
// ValidateProfile. Never contains device identities.
std::string ProfileKey(const Profile& profile);

}  // namespace sipresolver::decision

#endif  // SIPRESOLVER_LIB_DECISION_PROFILE_H_
