// Fuzzes ParseDnsAnswer with raw DNS responses (A/AAAA/SRV/CNAME/SOA,
// compression pointers, truncation, lying counts and RDLENGTHs). The input is
// the packet as it comes off the wire; it is parsed as the answer to each
// question type the resolver asks (at most one matches the question section),
// so the seeds stay real packets. On success the documented guarantees of
// DnsAnswer are checked as well.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "lib/dns/dns_answer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sipresolver::dns::AddressRecord;
using sipresolver::dns::DnsAnswer;
using sipresolver::dns::RecordType;

bool IsAddress(const std::string& text, int family) {
  unsigned char buf[16];
  return inet_pton(family, text.c_str(), buf) == 1;
}

// "Names are normalised: lower case, no trailing dot; the root is '.'".
bool IsNormalized(const std::string& name) {
  if (name.empty()) return false;
  if (name == ".") return true;
  if (name.back() == '.' &&
      !(name.size() >= 2 && name[name.size() - 2] == '\\')) {
    return false;
  }
  for (char c : name) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void CheckAnswer(const DnsAnswer& a, RecordType qtype) {
  FUZZ_CHECK(a.qtype == qtype);
  FUZZ_CHECK(a.rcode >= 0 && a.rcode <= 15);
  FUZZ_CHECK(IsNormalized(a.qname));
  FUZZ_CHECK(IsNormalized(a.canonical_name));
  FUZZ_CHECK(a.cname_chain.size() <= sipresolver::dns::kMaxCnameChain);
  FUZZ_CHECK(a.canonical_name ==
             (a.cname_chain.empty() ? a.qname : a.cname_chain.back()));
  for (const std::string& c : a.cname_chain) FUZZ_CHECK(IsNormalized(c));
  FUZZ_CHECK(a.addresses.size() <= sipresolver::dns::kMaxRecordsPerSection);
  FUZZ_CHECK(a.srv.size() <= sipresolver::dns::kMaxRecordsPerSection);
  FUZZ_CHECK(a.additional.size() <= sipresolver::dns::kMaxRecordsPerSection);

  if (qtype == RecordType::kSrv) {
    FUZZ_CHECK(a.addresses.empty());
  } else {
    FUZZ_CHECK(a.srv.empty());
  }
  const int family = qtype == RecordType::kAaaa ? AF_INET6 : AF_INET;
  for (const AddressRecord& r : a.addresses) {
    FUZZ_CHECK(r.name == a.canonical_name);
    FUZZ_CHECK(IsAddress(r.address, family));
    FUZZ_CHECK(a.min_ttl <= r.ttl);
  }
  for (const auto& s : a.srv) {
    FUZZ_CHECK(IsNormalized(s.target));
    FUZZ_CHECK(a.min_ttl <= s.ttl);
  }
  for (const AddressRecord& r : a.additional) {
    FUZZ_CHECK(IsNormalized(r.name));
    FUZZ_CHECK(IsAddress(r.address, AF_INET) || IsAddress(r.address, AF_INET6));
  }
  if (a.cname_chain.empty() && a.empty()) FUZZ_CHECK(a.min_ttl == 0);
  if (a.dangling_cname()) FUZZ_CHECK(!a.cname_chain.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> packet(data, size);
  int parsed = 0;
  for (RecordType qtype :
       {RecordType::kA, RecordType::kAaaa, RecordType::kSrv}) {
    absl::StatusOr<DnsAnswer> answer =
        sipresolver::dns::ParseDnsAnswer(packet, qtype);
    if (!answer.ok()) {
      FUZZ_CHECK(!answer.status().message().empty());
      continue;
    }
    ++parsed;
    CheckAnswer(*answer, qtype);
  }
  // The question section holds one type, so at most one qtype can parse.
  FUZZ_CHECK(parsed <= 1);
  // Types the resolver never asks are refused, never parsed.
  FUZZ_CHECK(
      !sipresolver::dns::ParseDnsAnswer(packet, RecordType::kCname).ok());
  return 0;
}
