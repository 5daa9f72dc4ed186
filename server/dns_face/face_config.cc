#include "server/dns_face/face_config.h"

#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "lib/dns/domain_name.h"
#include "server/decision_convert.h"
#include "sipresolver/v1/dns_face.pb.h"

namespace sipresolver::server::dns_face {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// A name in the form PowerDNS sends: lower case, one trailing dot.
absl::StatusOr<std::string> Qualified(absl::string_view name,
                                      absl::string_view field) {
  auto normal = dns::NormalizeDomainName(name);
  if (!normal.ok()) return Invalid(field, normal.status().message());
  if (dns::ParseIpLiteral(*normal)) return Invalid(field, "not a domain name");
  return absl::StrCat(*normal, ".");
}

// RFC 3263's service name for the profile's transport.
std::string ServiceLabels(v1::Transport transport) {
  switch (transport) {
    case v1::TRANSPORT_TCP:
      return "_sip._tcp.";
    case v1::TRANSPORT_TLS:
      return "_sips._tcp.";
    default:
      return "_sip._udp.";
  }
}

absl::StatusOr<FaceName> ToName(const v1::DnsFaceName& in,
                                const std::string& apex,
                                const std::string& field) {
  FaceName out;
  if (in.name().empty()) return Invalid(field + ".name", "must be set");
  auto fqdn = Qualified(absl::StrCat(in.name(), ".", apex), field + ".name");
  if (!fqdn.ok()) return fqdn.status();
  out.fqdn = *std::move(fqdn);
  out.service = ServiceLabels(in.profile().proxy_server_transport()) + out.fqdn;
  if (out.service.size() > dns::kMaxDomainNameLength + 1) {
    return Invalid(field + ".name", "too long for its SRV name");
  }

  v1::WatchDecisionRequest request;
  *request.mutable_profile() = in.profile();
  request.set_agent_id("dns-face");
  if (auto watch = ToWatchRequest(request); !watch.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".", watch.status().message()));
  }
  out.profile = in.profile();

  if (in.publish_size() > 0) {
    out.publish_srv = false;
    for (const std::string& what : in.publish()) {
      if (what == "srv") {
        out.publish_srv = true;
      } else if (what == "address") {
        out.publish_address = true;
      } else {
        return Invalid(
            field + ".publish",
            absl::StrCat("\"", what, "\" is not \"srv\" or \"address\""));
      }
    }
  }
  return out;
}

absl::StatusOr<FaceZone> ToZone(const v1::DnsFaceZone& in,
                                const std::string& field,
                                absl::flat_hash_set<std::string>& names) {
  FaceZone out;
  auto apex = Qualified(in.zone(), field + ".zone");
  if (!apex.ok()) return apex.status();
  out.apex = *std::move(apex);
  if (in.ttl_seconds() > 300) {
    return Invalid(field + ".ttl_seconds", "must be 1-300 (0 means 5)");
  }
  if (in.ttl_seconds() > 0) out.ttl_seconds = in.ttl_seconds();

  for (int i = 0; i < in.nameservers_size(); ++i) {
    auto ns = Qualified(in.nameservers(i),
                        absl::StrCat(field, ".nameservers[", i, "]"));
    if (!ns.ok()) return ns.status();
    out.nameservers.push_back(*std::move(ns));
  }
  std::string hostmaster = "hostmaster." + out.apex;
  if (!in.hostmaster().empty()) {
    auto h = Qualified(in.hostmaster(), field + ".hostmaster");
    if (!h.ok()) return h.status();
    hostmaster = *std::move(h);
  }
  // Serial, refresh, retry, expire: nothing transfers this zone. Minimum:
  // the negative TTL, as short as the records'.
  out.soa = absl::StrCat(
      out.nameservers.empty() ? "ns." + out.apex : out.nameservers.front(), " ",
      hostmaster, " 1 3600 600 86400 ", out.ttl_seconds);

  if (in.names().empty() ||
      static_cast<size_t>(in.names_size()) > kMaxNamesPerZone) {
    return Invalid(field + ".names",
                   absl::StrCat("1 to ", kMaxNamesPerZone, " names"));
  }
  for (int i = 0; i < in.names_size(); ++i) {
    auto name =
        ToName(in.names(i), out.apex, absl::StrCat(field, ".names[", i, "]"));
    if (!name.ok()) return name.status();
    if (!names.insert(name->fqdn).second) {
      return Invalid(absl::StrCat(field, ".names[", i, "]"),
                     absl::StrCat(name->fqdn, " is provisioned twice"));
    }
    out.names.push_back(*std::move(name));
  }
  return out;
}

}  // namespace

absl::StatusOr<FaceConfig> ParseFaceConfig(absl::string_view json) {
  v1::DnsFaceConfig in;
  if (auto s = google::protobuf::util::JsonStringToMessage(
          std::string(json), &in, google::protobuf::util::JsonParseOptions());
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a DNS face configuration: ", s.message().ToString()));
  }
  if (in.zones().empty() || static_cast<size_t>(in.zones_size()) > kMaxZones) {
    return Invalid("zones", absl::StrCat("1 to ", kMaxZones, " zones"));
  }
  FaceConfig out;
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < in.zones_size(); ++i) {
    auto zone = ToZone(in.zones(i), absl::StrCat("zones[", i, "]"), names);
    if (!zone.ok()) return zone.status();
    out.zones.push_back(*std::move(zone));
  }
  // A zone inside another would make the answer depend on which PowerDNS
  // picks; one per name is enough.
  for (const FaceZone& a : out.zones) {
    for (const FaceZone& b : out.zones) {
      if (&a != &b &&
          (a.apex == b.apex || absl::EndsWith(a.apex, "." + b.apex))) {
        return Invalid("zones", absl::StrCat(a.apex, " overlaps ", b.apex));
      }
    }
  }
  return out;
}

absl::StatusOr<FaceConfig> LoadFaceConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("dns_face_config: cannot read ", path));
  }
  std::string json;
  json.resize(kMaxConfigBytes + 1);
  in.read(json.data(), static_cast<std::streamsize>(json.size()));
  json.resize(static_cast<size_t>(in.gcount()));
  if (json.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat("dns_face_config: ", path,
                                                   " is larger than ",
                                                   kMaxConfigBytes, " bytes"));
  }
  auto config = ParseFaceConfig(json);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dns_face_config: ", path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace sipresolver::server::dns_face
