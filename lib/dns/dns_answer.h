// DnsAnswer: the parts of a raw DNS response that device resolution needs,
// with the TTLs c-ares 1.18 does not expose (SRV TTLs, SOA MINIMUM).
//
// ParseDnsAnswer reads bytes from a DNS server we do not control: it never
// reads out of bounds, bounds every count and loop, and reports malformed
// input as an error instead of guessing. Pure; thread-compatible.
#ifndef SIPRESOLVER_LIB_DNS_DNS_ANSWER_H_
#define SIPRESOLVER_LIB_DNS_DNS_ANSWER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sipresolver::dns {

enum class RecordType : uint16_t {
  kA = 1,
  kCname = 5,
  kSoa = 6,
  kAaaa = 28,
  kSrv = 33,
};
absl::string_view RecordTypeName(RecordType type);  // "A", "SRV", ...

// DNS RCODEs that matter here (RFC 1035 4.1.1).
inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;

// Names are normalised: lower case, no trailing dot; the root is ".".
struct AddressRecord {
  std::string name;
  std::string address;  // Text form, e.g. "192.0.2.1" or "2001:db8::1".
  uint32_t ttl = 0;
};

struct SrvRecord {
  std::string target;  // "." means the service is not offered (RFC 2782).
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  uint32_t ttl = 0;
};

struct DnsAnswer {
  int rcode = kRcodeNoError;
  std::string qname;  // From the question section, normalised.
  RecordType qtype = RecordType::kA;
  // CNAME targets followed from qname within the answer section, in order.
  std::vector<std::string> cname_chain;
  // qname after following cname_chain.
  std::string canonical_name;
  // A or AAAA records (per qtype) owned by canonical_name.
  std::vector<AddressRecord> addresses;
  // SRV records owned by canonical_name (qtype SRV).
  std::vector<SrvRecord> srv;
  // A and AAAA records of the additional section, any owner.
  std::vector<AddressRecord> additional;
  // Smallest TTL of the CNAMEs followed and the records above (not the
  // additional section); 0 when there are none.
  uint32_t min_ttl = 0;
  // RFC 2308 negative TTL: min(SOA TTL, SOA MINIMUM) of an SOA in the
  // authority section, when there is one.
  std::optional<uint32_t> negative_ttl;

  // No records of qtype for the name (NODATA or NXDOMAIN).
  bool empty() const { return addresses.empty() && srv.empty(); }
  // The chain ends in a CNAME whose target has no records in this answer:
  // the caller may look up canonical_name itself.
  bool dangling_cname() const {
    return rcode == kRcodeNoError && !cname_chain.empty() && empty();
  }
};

// Limits on what a single answer may make us do.
inline constexpr int kMaxRecordsPerSection = 256;
inline constexpr int kMaxCnameChain = 8;

// Parses a complete DNS response message (header, question, answer,
// authority, additional). `qtype` is the type that was asked (A, AAAA or SRV);
// the question section must hold exactly one question of that type.
// Errors: INVALID_ARGUMENT / DATA_LOSS for malformed or truncated packets.
absl::StatusOr<DnsAnswer> ParseDnsAnswer(absl::Span<const uint8_t> packet,
                                         RecordType qtype);

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_DNS_ANSWER_H_
