// Fuzzes ProbePolicy (the --probe_allow list that keeps client-named servers
// from turning the service into a probe of the operator's own network).
// Input: "FLAG\nADDRESS\nDOMAIN" (the rest after the second newline is the
// domain). Checks, beyond the sanitizers:
//   - ToString() is canonical: it parses back to the same policy text;
//   - Check answers OK, PERMISSION_DENIED or INVALID_ARGUMENT only, and an
//     empty policy allows nothing;
//   - case, one trailing dot on the domain and [brackets] on the address do
//     not change the answer;
//   - an address allowed only through a domain (not by a CIDR) is never
//     special-use, by an independent table of RFC 6890 ranges below.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/health/probe_policy.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sipresolver::health::ProbePolicy;

bool InV4(uint32_t a, uint32_t net, int len) {
  const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return (a & mask) == (net & mask);
}

bool SpecialV4(uint32_t a) {
  struct {
    uint32_t net;
    int len;
  } kRanges[] = {
      {0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},
      {0xa9fe0000, 16}, {0xac100000, 12}, {0xc0000000, 24}, {0xc0a80000, 16},
      {0xc6120000, 15}, {0xe0000000, 4},  {0xf0000000, 4},
  };
  for (const auto& r : kRanges) {
    if (InV4(a, r.net, r.len)) return true;
  }
  return false;
}

uint32_t V4At(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

// Special-use per the header comment of probe_policy.h, written independently.
bool IsSpecialUse(absl::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  const std::string s(text);
  unsigned char b[16];
  if (inet_pton(AF_INET, s.c_str(), b) == 1) return SpecialV4(V4At(b));
  if (inet_pton(AF_INET6, s.c_str(), b) != 1) return false;
  static const unsigned char kZero[12] = {};
  if (std::memcmp(b, kZero, 12) == 0)
    return true;  // ::/96: ::, ::1, IPv4-compatible.
  if (std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff) {
    return SpecialV4(V4At(b + 12));  // ::ffff:a.b.c.d is a.b.c.d.
  }
  static const unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b};
  if (std::memcmp(b, kNat64, 12) == 0) return SpecialV4(V4At(b + 12));
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 &&
      b[5] == 1) {
    return true;  // 64:ff9b:1::/48.
  }
  if (b[0] == 0x20 && b[1] == 0x02) return SpecialV4(V4At(b + 2));  // 6to4.
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10.
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10.
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7.
  if (b[0] == 0xff) return true;                           // ff00::/8.
  return false;
}

absl::StatusCode Code(const ProbePolicy& policy, absl::string_view address,
                      absl::string_view domain, uint16_t port) {
  absl::Status s = policy.Check(address, domain, port);
  FUZZ_CHECK(s.ok() || absl::IsPermissionDenied(s) ||
             absl::IsInvalidArgument(s));
  return s.code();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts =
      absl::StrSplit(input, absl::MaxSplits('\n', 2));
  parts.resize(3);
  const absl::string_view flag = parts[0], address = parts[1],
                          domain = parts[2];
  // Around 5060, where the seeds' port ranges begin and end.
  const uint16_t port = static_cast<uint16_t>(5059 + size % 3);

  absl::StatusOr<ProbePolicy> policy = ProbePolicy::Parse(flag);
  if (!policy.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(policy.status()));
    return 0;
  }
  const std::string text = policy->ToString();
  if (policy->empty()) {
    FUZZ_CHECK(!policy->Check(address, domain, port).ok());
  } else {
    absl::StatusOr<ProbePolicy> again = ProbePolicy::Parse(text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->ToString() == text);
  }

  const absl::StatusCode code = Code(*policy, address, domain, port);
  FUZZ_CHECK(Code(*policy, address, absl::AsciiStrToUpper(domain), port) ==
             code);
  if (!domain.empty() && domain.back() != '.') {
    FUZZ_CHECK(Code(*policy, address, std::string(domain) + ".", port) == code);
  }
  if (!address.empty() && address.front() != '[') {
    FUZZ_CHECK(Code(*policy, "[" + std::string(address) + "]", domain, port) ==
               code);
  }
  if (code == absl::StatusCode::kOk && !policy->Check(address, "", port).ok()) {
    // Allowed through the domain only: must not reach into special ranges.
    FUZZ_CHECK(!IsSpecialUse(address));
  }
  return 0;
}
