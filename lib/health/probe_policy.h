// ProbePolicy: the operator's --probe_allow list, checked before every SIP
// probe so that a client-supplied server name can never make the service
// probe a host the operator did not allow.
//
// The flag is a comma-separated list of CIDRs ("192.0.2.0/24", "2001:db8::/32",
// a bare address meaning /32 or /128) and domain names ("itsp.example.com"),
// each optionally followed by the ports it allows: ":5060" or ":5060-5061"
// (an IPv6 CIDR then in brackets: "[2001:db8::/32]:5060"); without ports an
// entry allows every port. More port ranges for one network: repeat it.
// A target (address, port) is allowed when
//   - an allowed CIDR contains the address (this also opens special-use
//     ranges, so "127.0.0.1/32" is how tests allow a loopback registrar), or
//   - the server name it was resolved from is an allowed domain or lies under
//     one (on a label boundary), and the address is not special-use: loopback,
//     unspecified, link-local, private/ULA, CGNAT, multicast, broadcast,
//     reserved, 192.0.0.0/24, benchmarking, and IPv6 forms that embed such an
//     IPv4 address. A domain is only a name someone else's DNS answers for;
//     it must not be a way into the operator's own network or this host.
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address throughout: it is
// matched against IPv4 CIDRs only, and a "::ffff:0:0/96"-style entry becomes
// the IPv4 CIDR it denotes; and the entry allows the port. An empty policy
// allows nothing.
//
// Usage:
//   absl::StatusOr<ProbePolicy> policy = ProbePolicy::Parse(flag);  // At
//   startup;
//   // refuse to start on error, log policy->ToString() otherwise.
//   absl::Status allowed = policy->Check(ip, server_name, port);  // Before
//   each probe.
//
// Threading: immutable after Parse; const methods may run on any thread.
// Check does no allocation on the allow path (CIDRs are pre-parsed to
// integers; domains are compared in place, case-insensitively).
#ifndef SIPRESOLVER_LIB_HEALTH_PROBE_POLICY_H_
#define SIPRESOLVER_LIB_HEALTH_PROBE_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sipresolver::health {

namespace internal {
// An address prefix as two 64-bit halves (IPv4 uses the low 32 bits of `lo`),
// stored masked so membership is two ANDs and two compares.
struct IpPrefix {
  bool v4 = false;
  uint64_t hi = 0, lo = 0;
  uint64_t mask_hi = 0, mask_lo = 0;
  int length = 0;
};
// The ports an entry allows, inclusive; every port by default.
struct PortRange {
  uint16_t first = 0, last = 65535;
  bool Contains(uint16_t port) const { return port >= first && port <= last; }
  bool all() const { return first == 0 && last == 65535; }
};
}  // namespace internal

class ProbePolicy {
 public:
  // Parses the --probe_allow value. Entries are trimmed; empty ones are
  // skipped; duplicates are kept once. INVALID_ARGUMENT names the entry when
  // it is neither a CIDR nor a domain name, when a prefix length is out of
  // range, when a CIDR has host bits set (refused rather than masked: the
  // operator probably meant something else), when a domain is a single
  // label (a TLD such as "com" would allow half the Internet), or when its
  // ports are not PORT or FIRST-LAST within 1-65535.
  static absl::StatusOr<ProbePolicy> Parse(absl::string_view flag_value);

  // An empty policy; allows nothing.
  ProbePolicy() = default;

  // OK when probes may be sent to `address` (IPv4 or IPv6 text, brackets
  // accepted) and `port`, resolved from server name `domain` (empty for
  // IP-literal servers; case and one trailing dot ignored). Otherwise
  // PERMISSION_DENIED naming the address, the port when only the port is
  // refused, and the domain; INVALID_ARGUMENT when `address` is not an IP
  // address.
  absl::Status Check(absl::string_view address, absl::string_view domain,
                     uint16_t port) const;

  bool empty() const { return cidrs_.empty() && domains_.empty(); }

  // The canonical entries, comma-separated (Parse accepts it back), or
  // "(none: no probe target is allowed)" when empty. For the startup log.
  std::string ToString() const;

 private:
  struct CidrEntry {
    internal::IpPrefix prefix;
    internal::PortRange ports;
  };
  struct DomainEntry {
    std::string name;  // Normalised, lower case, no dot.
    internal::PortRange ports;
  };
  std::vector<CidrEntry> cidrs_;
  std::vector<DomainEntry> domains_;
  std::vector<std::string> entries_;  // Canonical text, in flag order.
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_PROBE_POLICY_H_
