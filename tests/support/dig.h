// Dig: asks a DNS server on 127.0.0.1 with the real `dig` (Debian 12
// bind9-dnsutils 9.18, /usr/bin/dig), as an operator would, and parses what
// it prints: the rcode, the AA flag and the records of the answer,
// authority and additional sections, in the order dig printed them (the
// order of the reply). For e2e tests of servers that face DNS clients
// (PowerDNS in front of sipresolverd).
//
// ParseDigOutput is separate so that it can be tested on captured outputs.
#ifndef SIPRESOLVER_TESTS_SUPPORT_DIG_H_
#define SIPRESOLVER_TESTS_SUPPORT_DIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sipresolver::testing {

// One record as dig prints it: "NAME TTL CLASS TYPE RDATA".
struct DigRecord {
  std::string name;  // As printed: absolute, with the trailing dot.
  uint32_t ttl = 0;
  std::string type;  // "A", "SRV", "SOA", ...
  // The rdata in presentation format, its fields separated by one space:
  // "10 5 5060 a.fleet.test." for SRV, "192.0.2.1" for A, "mname rname
  // serial refresh retry expire minimum" for SOA.
  std::string data;

  bool operator==(const DigRecord& o) const {
    return name == o.name && ttl == o.ttl && type == o.type && data == o.data;
  }
};

struct DigAnswer {
  std::string rcode;  // "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...
  bool authoritative = false;  // The AA flag.
  std::vector<DigRecord> answer;
  std::vector<DigRecord> authority;
  std::vector<DigRecord> additional;  // Without the OPT pseudo-record.

  // The authority section's SOA record, if any (negative answers).
  std::optional<DigRecord> Soa() const;
  // RFC 2308 negative TTL: min(SOA TTL, SOA MINIMUM); nullopt without SOA.
  std::optional<uint32_t> NegativeTtl() const;
  // The rdata of the answer records of `type`, in order.
  std::vector<std::string> AnswerData(absl::string_view type) const;
  // The ports of the answer's SRV records, in order; empty unless NOERROR
  // with well-formed SRV records.
  std::vector<uint16_t> SrvPorts() const;
};

struct DigOptions {
  bool tcp = false;                           // +tcp instead of UDP.
  absl::Duration timeout = absl::Seconds(2);  // +time (whole seconds, >= 1).
};

// Runs `dig -p PORT @127.0.0.1 +tries=1 +time=T +norecurse NAME TYPE`
// ([+tcp]) and parses its output. UNAVAILABLE with dig's output when no
// reply came (dig exits 9) or dig failed otherwise.
absl::StatusOr<DigAnswer> Dig(uint16_t port, absl::string_view name,
                              absl::string_view type,
                              const DigOptions& options = {});

// Parses dig's default output (header comments and sections). INVALID_ARGUMENT
// without a ";; ->>HEADER<<-" status line or for a record line it cannot
// read.
absl::StatusOr<DigAnswer> ParseDigOutput(absl::string_view output);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_DIG_H_
