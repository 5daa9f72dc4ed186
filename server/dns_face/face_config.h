// FaceConfig: the DNS face's zones and provisioned names, read from the JSON
// file of --dns_face_config (v1::DnsFaceConfig) and checked once at start:
// every name is normalised to lower case with a trailing dot, as PowerDNS
// sends them, and every profile is one an agent could watch.
#ifndef SIPRESOLVER_SERVER_DNS_FACE_FACE_CONFIG_H_
#define SIPRESOLVER_SERVER_DNS_FACE_FACE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server::dns_face {

inline constexpr size_t kMaxZones = 16;
inline constexpr size_t kMaxNamesPerZone = 256;
inline constexpr size_t kMaxConfigBytes = 1 << 20;

struct FaceName {
  std::string fqdn;     // "acme.sip.fleet.example."
  std::string service;  // "_sip._udp.acme.sip.fleet.example.", by transport.
  bool publish_srv = true;
  bool publish_address = false;
  v1::ItspProfile profile;
};

struct FaceZone {
  std::string apex;  // "sip.fleet.example."
  uint32_t ttl_seconds = 5;
  std::string soa;                       // The SOA record's content.
  std::vector<std::string> nameservers;  // Fully qualified.
  std::vector<FaceName> names;
};

struct FaceConfig {
  std::vector<FaceZone> zones;
};

// INVALID_ARGUMENT naming the field ("zones[0].names[1].profile.proxy_server:
// ...") for anything wrong: unknown fields, bad names, a name outside or
// equal to its zone, duplicates, limits.
absl::StatusOr<FaceConfig> ParseFaceConfig(absl::string_view json);
// Reads and parses `path`; errors name the file.
absl::StatusOr<FaceConfig> LoadFaceConfig(const std::string& path);

}  // namespace sipresolver::server::dns_face

#endif  // SIPRESOLVER_SERVER_DNS_FACE_FACE_CONFIG_H_
