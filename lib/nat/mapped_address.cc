#include "lib/nat/mapped_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/core/host_port.h"

namespace sipresolver::nat {

absl::string_view MethodName(MappedAddress::Method method) {
  switch (method) {
    case MappedAddress::Method::kVia:
      return "via";
    case MappedAddress::Method::kStun:
      return "stun";
  }
  return "via";
}

std::string HostPort(const MappedAddress& mapped) {
  return ::sipresolver::HostPort(mapped.address, mapped.port);
}

std::optional<std::string> CanonicalIp(absl::string_view text) {
  // inet_pton reads a C string: an embedded NUL would cut the text short.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != absl::string_view::npos) {
    return std::nullopt;
  }
  const std::string copy(text);
  char out[INET6_ADDRSTRLEN];
  in_addr v4;
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1 &&
      inet_ntop(AF_INET, &v4, out, sizeof(out)) != nullptr) {
    return std::string(out);
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1 &&
      inet_ntop(AF_INET6, &v6, out, sizeof(out)) != nullptr) {
    return std::string(out);
  }
  return std::nullopt;
}

absl::StatusOr<MappedAddress> MappedAddressFromVia(const sip::Via& top_via) {
  if (!top_via.received.has_value() && !top_via.rport_present) {
    return absl::NotFoundError(
        "N1: the top Via has neither received= nor rport=: the server "
        "reported no mapping");
  }
  if (!top_via.rport.has_value()) {
    return absl::NotFoundError(
        top_via.rport_present
            ? "N1: the top Via's rport has no value: the server does not "
              "report the mapped port (RFC 3581)"
            : "N1: the top Via has no rport=: the mapped port is unknown (the "
              "request must carry ;rport, RFC 3581)");
  }
  if (*top_via.rport == 0) {
    return absl::InvalidArgumentError("N1: the top Via's rport=0 is no port");
  }
  MappedAddress mapped;
  mapped.port = *top_via.rport;
  mapped.method = MappedAddress::Method::kVia;
  if (top_via.received.has_value()) {
    std::optional<std::string> ip = CanonicalIp(*top_via.received);
    if (!ip.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "N1: the top Via's received=\"", absl::CHexEscape(*top_via.received),
          "\" is not an IPv4 or IPv6 address"));
    }
    mapped.address = *std::move(ip);
    return mapped;
  }
  std::optional<std::string> ip = CanonicalIp(top_via.host);
  if (!ip.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("N1: the top Via has rport= but no received=, and its "
                     "sent-by host \"",
                     absl::CHexEscape(top_via.host),
                     "\" is not an IP address: the mapped address is unknown"));
  }
  mapped.address = *std::move(ip);
  return mapped;
}

absl::StatusOr<MappedAddress> MappedAddressFromResponse(
    absl::string_view response) {
  absl::StatusOr<sip::Response> parsed = sip::ParseResponse(response);
  if (!parsed.ok()) {
    return absl::Status(
        parsed.status().code(),
        absl::StrCat("SIP response: ", parsed.status().message()));
  }
  if (parsed->vias.empty()) {  // ParseResponse rejects this; stay safe.
    return absl::InvalidArgumentError("SIP response: no Via");
  }
  return MappedAddressFromVia(parsed->vias.front());
}

}  // namespace sipresolver::nat
