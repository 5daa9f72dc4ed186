// MappedAddress: the device's address and port as seen from outside its NAT,
// and how it was learned (N1: the Via of a REGISTER response; N2: a STUN
// Binding response). N3 puts it in place of the local contact address.
//
// The Via functions are pure and thread-safe. They are strict because what
// they return goes into every outbound request: a `received=` that is not an
// IP address (RFC 3261 requires one, but sip::ParseResponse does not check)
// is rejected rather than passed on.
#ifndef SIPRESOLVER_LIB_NAT_MAPPED_ADDRESS_H_
#define SIPRESOLVER_LIB_NAT_MAPPED_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/sip/message.h"

namespace sipresolver::nat {

struct MappedAddress {
  enum class Method {
    kVia,   // N1: received=/rport= of a SIP response's top Via.
    kStun,  // N2: XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) of a STUN response.
  };

  // Canonical IP text: dotted quad, or RFC 5952 IPv6 without brackets.
  std::string address;
  uint16_t port = 0;
  Method method = Method::kVia;

  bool operator==(const MappedAddress& o) const {
    return address == o.address && port == o.port && method == o.method;
  }
  bool operator!=(const MappedAddress& o) const { return !(*this == o); }
};

absl::string_view MethodName(MappedAddress::Method method);  // "via", "stun"
// "192.0.2.1:5060", "[2001:db8::1]:5060" (no method).
std::string HostPort(const MappedAddress& mapped);

// The canonical text of an IPv4 or IPv6 address, or nullopt if `text` is not
// one. Brackets are not accepted; IPv6 zone ids ("%eth0") are not either (a
// mapped address is never link-local scoped).
std::optional<std::string> CanonicalIp(absl::string_view text);

// N1: the mapping the server saw, from the top Via of its response.
//  - address: `received=`; without it, the sent-by host if that is an IP
//    address (RFC 3581 servers may omit received= when it equals sent-by).
//  - port: the value of `rport=` (RFC 3581). The sent-by port is never used:
//    behind a NAT it is the private port, exactly what must not be
//    advertised.
// NOT_FOUND when the server reported no mapping: no rport value (absent, or
// ";rport" echoed without a value by a server without RFC 3581), or no
// received= and a sent-by host that is a name. INVALID_ARGUMENT when a value
// is malformed: received= that is not an IP address, rport 0.
absl::StatusOr<MappedAddress> MappedAddressFromVia(const sip::Via& top_via);

// The same from a whole SIP response (any status code: a 401 carries the
// mapping as well as a 200). Parse errors of sip::ParseResponse are returned
// with their code, prefixed with "SIP response: ".
absl::StatusOr<MappedAddress> MappedAddressFromResponse(
    absl::string_view response);

}  // namespace sipresolver::nat

#endif  // SIPRESOLVER_LIB_NAT_MAPPED_ADDRESS_H_
