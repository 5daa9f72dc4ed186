#include "lib/health/probe_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::health {
namespace {

using internal::IpPrefix;
using internal::PortRange;

constexpr absl::string_view kFlag = "--probe_allow";

// An address as two 64-bit halves; IPv4 in the low 32 bits of `lo`.
struct IpAddress {
  bool v4 = false;
  uint64_t hi = 0, lo = 0;
};

uint64_t LoadBigEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// inet_pton on `text` ("[v6]" accepted). dns::ParseIpLiteral does the same
// check but returns text; probes need the bytes, without allocating.
std::optional<IpAddress> ParseAddress(absl::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  char buffer[INET6_ADDRSTRLEN];
  // A NUL would end the C string early: "192.0.2.1\0..." is not 192.0.2.1.
  if (text.empty() || text.size() >= sizeof(buffer) ||
      text.find('\0') != absl::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char bytes[16];
  IpAddress address;
  if (inet_pton(AF_INET, buffer, bytes) == 1) {
    address.v4 = true;
    address.lo = (uint64_t{bytes[0]} << 24) | (uint64_t{bytes[1]} << 16) |
                 (uint64_t{bytes[2]} << 8) | bytes[3];
    return address;
  }
  if (inet_pton(AF_INET6, buffer, bytes) == 1) {
    address.hi = LoadBigEndian64(bytes);
    address.lo = LoadBigEndian64(bytes + 8);
    return address;
  }
  return std::nullopt;
}

bool IsV4Mapped(const IpAddress& a) {
  return !a.v4 && a.hi == 0 && (a.lo >> 32) == 0xffff;
}

IpAddress V4(uint64_t value) { return IpAddress{true, 0, value & 0xffffffffu}; }

// ::ffff:a.b.c.d is a.b.c.d: a dual-stack socket sends it over IPv4.
IpAddress Unmap(const IpAddress& a) { return IsV4Mapped(a) ? V4(a.lo) : a; }

IpPrefix MakePrefix(const IpAddress& a, int length) {
  IpPrefix p;
  p.v4 = a.v4;
  p.length = length;
  if (a.v4) {
    p.mask_lo = length == 0 ? 0 : (0xffffffffu << (32 - length)) & 0xffffffffu;
  } else {
    p.mask_hi = length == 0 ? 0 : length >= 64 ? ~0ull : ~0ull << (64 - length);
    p.mask_lo = length <= 64    ? 0
                : length == 128 ? ~0ull
                                : ~0ull << (128 - length);
  }
  p.hi = a.hi & p.mask_hi;
  p.lo = a.lo & p.mask_lo;
  return p;
}

bool Contains(const IpPrefix& p, const IpAddress& a) {
  return p.v4 == a.v4 && (a.hi & p.mask_hi) == p.hi &&
         (a.lo & p.mask_lo) == p.lo;
}

std::string FormatPrefix(const IpPrefix& p) {
  unsigned char bytes[16];
  char text[INET6_ADDRSTRLEN];
  if (p.v4) {
    for (int i = 0; i < 4; ++i) bytes[i] = (p.lo >> (24 - 8 * i)) & 0xff;
  } else {
    for (int i = 0; i < 8; ++i) bytes[i] = (p.hi >> (56 - 8 * i)) & 0xff;
    for (int i = 0; i < 8; ++i) bytes[8 + i] = (p.lo >> (56 - 8 * i)) & 0xff;
  }
  inet_ntop(p.v4 ? AF_INET : AF_INET6, bytes, text, sizeof(text));
  return absl::StrCat(text, "/", p.length);
}

// Ranges that point into the operator's own network or at this host. A
// domain match never reaches them; only an explicit CIDR does. Documentation
// ranges (192.0.2.0/24, 2001:db8::/32...) are deliberately absent.
struct SpecialRange {
  IpPrefix prefix;
  const char* what;  // Completes "is ... address".
};

const std::vector<SpecialRange>& SpecialRanges() {
  static const auto* ranges = [] {
    const std::pair<const char*, const char*> table[] = {
        // First match wins: the narrow ranges come before their supersets.
        {"0.0.0.0/8", "an unspecified"},
        {"10.0.0.0/8", "a private"},
        {"100.64.0.0/10", "a shared (CGNAT)"},
        {"127.0.0.0/8", "a loopback"},
        {"169.254.0.0/16", "a link-local"},
        {"172.16.0.0/12", "a private"},
        {"192.0.0.0/24", "an IETF protocol-assignment"},
        {"192.168.0.0/16", "a private"},
        {"198.18.0.0/15", "a benchmarking"},
        {"224.0.0.0/4", "a multicast"},
        {"255.255.255.255/32", "a broadcast"},
        {"240.0.0.0/4", "a reserved"},
        {"::/128", "an unspecified"},
        {"::1/128", "a loopback"},
        {"::/96", "an IPv4-compatible (deprecated)"},
        {"64:ff9b:1::/48", "a NAT64 local-use"},
        {"fe80::/10", "a link-local"},
        {"fec0::/10", "a site-local"},
        {"fc00::/7", "a private (unique local)"},
        {"ff00::/8", "a multicast"},
    };
    auto* result = new std::vector<SpecialRange>;
    for (const auto& [cidr, what] : table) {
      std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(cidr, '/');
      int length = 0;
      for (char c : parts.second) length = length * 10 + (c - '0');
      result->push_back({MakePrefix(*ParseAddress(parts.first), length), what});
    }
    return result;
  }();
  return *ranges;
}

struct SpecialUse {
  const char* what;
  const char* embedded_in = nullptr;  // "NAT64" or "6to4" when via IPv4.
};

std::optional<SpecialUse> ClassifyDirect(const IpAddress& a) {
  for (const SpecialRange& range : SpecialRanges()) {
    if (Contains(range.prefix, a)) return SpecialUse{range.what};
  }
  return std::nullopt;
}

// `a` must already be unmapped. NAT64 (64:ff9b::/96, RFC 6052) and 6to4
// (2002::/16, RFC 3056) addresses deliver to the IPv4 address inside them, so
// they are as special as that address.
std::optional<SpecialUse> Classify(const IpAddress& a) {
  if (auto direct = ClassifyDirect(a)) return direct;
  if (a.v4) return std::nullopt;
  std::optional<SpecialUse> inner;
  const char* via = nullptr;
  if (a.hi == 0x0064ff9b00000000ull && (a.lo >> 32) == 0) {
    inner = ClassifyDirect(V4(a.lo));
    via = "NAT64";
  } else if ((a.hi >> 48) == 0x2002) {
    inner = ClassifyDirect(V4(a.hi >> 16));
    via = "6to4";
  }
  if (inner) inner->embedded_in = via;
  return inner;
}

bool IsHostNameText(absl::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '.' || c == '-' || c == '_' ||
           absl::ascii_isalnum(static_cast<unsigned char>(c));
  });
}

// `domain` without one trailing dot, or empty when it may match nothing.
// Only well-formed text may match: "evil.net\0.example.com" ends in an
// allowed suffix, but a C resolver would look up "evil.net".
absl::string_view MatchableDomain(absl::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return IsHostNameText(domain) ? domain : absl::string_view();
}

// `domain` (from MatchableDomain) equals or is under `suffix` on a label
// boundary, case ignored.
bool IsUnder(absl::string_view domain, absl::string_view suffix) {
  if (domain.empty() || domain.size() < suffix.size()) return false;
  const size_t start = domain.size() - suffix.size();
  return (start == 0 || domain[start - 1] == '.') &&
         absl::EqualsIgnoreCase(domain.substr(start), suffix);
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Entries a reader would take for an address: they are parsed only as CIDRs,
// so "300.1.1.1" is an error, not a domain.
bool LooksLikeAddress(absl::string_view entry) {
  return absl::StrContains(entry, ':') || absl::StrContains(entry, '/') ||
         std::all_of(entry.begin(), entry.end(), [](char c) {
           return c == '.' ||
                  absl::ascii_isdigit(static_cast<unsigned char>(c));
         });
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

absl::Status Neither(absl::string_view entry, absl::string_view why = "") {
  return absl::InvalidArgumentError(absl::StrCat(
      "probe_allow: ", Quoted(entry), " is neither a CIDR nor a domain name",
      why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
}

// An entry split into its network and its ports: "NETWORK", "NETWORK:PORTS"
// or, for IPv6, "[NETWORK]:PORTS"; PORTS is PORT or FIRST-LAST.
struct SplitEntry {
  absl::string_view network;
  PortRange ports;
};

absl::StatusOr<PortRange> ParsePorts(absl::string_view entry,
                                     absl::string_view text) {
  auto port = [](absl::string_view digits) -> std::optional<uint16_t> {
    if (!IsDigits(digits) || digits.size() > 5) return std::nullopt;
    int value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    if (value < 1 || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
  };
  const size_t dash = text.find('-');
  std::optional<uint16_t> first = port(text.substr(0, dash));
  std::optional<uint16_t> last =
      dash == absl::string_view::npos ? first : port(text.substr(dash + 1));
  if (!first || !last || *first > *last) {
    return absl::InvalidArgumentError(
        absl::StrCat("probe_allow: ", Quoted(entry), " has ports ",
                     Quoted(text), "; want PORT or FIRST-LAST within 1-65535"));
  }
  return PortRange{*first, *last};
}

absl::StatusOr<SplitEntry> SplitPorts(absl::string_view entry) {
  SplitEntry split{entry, {}};
  absl::string_view ports;
  if (entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == absl::string_view::npos) return Neither(entry);
    split.network = entry.substr(1, close - 1);
    absl::string_view rest = entry.substr(close + 1);
    if (rest.empty()) return split;
    if (!absl::ConsumePrefix(&rest, ":")) return Neither(entry);
    ports = rest;
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    const size_t colon = entry.find(':');
    split.network = entry.substr(0, colon);
    ports = entry.substr(colon + 1);
  } else {
    return split;  // No ports, or an IPv6 CIDR without brackets.
  }
  absl::StatusOr<PortRange> range = ParsePorts(entry, ports);
  if (!range.ok()) return range.status();
  split.ports = *range;
  return split;
}

std::string FormatEntry(std::string network, bool v6, const PortRange& ports) {
  if (ports.all()) return network;
  std::string text = v6 ? absl::StrCat("[", network, "]") : std::move(network);
  absl::StrAppend(&text, ":", ports.first);
  if (ports.last != ports.first) absl::StrAppend(&text, "-", ports.last);
  return text;
}

absl::StatusOr<IpPrefix> ParseCidr(absl::string_view entry) {
  absl::string_view address_text = entry;
  absl::string_view length_text;
  bool has_length = false;
  if (size_t slash = entry.rfind('/'); slash != absl::string_view::npos) {
    address_text = entry.substr(0, slash);
    length_text = entry.substr(slash + 1);
    has_length = true;
  }
  std::optional<IpAddress> address = ParseAddress(address_text);
  if (!address) return Neither(entry);
  const int max_length = address->v4 ? 32 : 128;
  int length = max_length;
  if (has_length) {
    if (!IsDigits(length_text)) return Neither(entry);
    length = 0;
    for (char c : length_text) length = std::min(length * 10 + (c - '0'), 1000);
    if (length > max_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "probe_allow: ", Quoted(entry), " has prefix length ", length_text,
          "; ", address->v4 ? "IPv4" : "IPv6", " allows 0-", max_length));
    }
  }
  IpPrefix prefix = MakePrefix(*address, length);
  if (prefix.hi != address->hi || prefix.lo != address->lo) {
    return absl::InvalidArgumentError(absl::StrCat(
        "probe_allow: ", Quoted(entry), " has host bits set; did you mean ",
        FormatPrefix(prefix), "?"));
  }
  // "::ffff:10.0.0.0/104" is 10.0.0.0/8: mapped addresses are matched as IPv4.
  if (length >= 96 && IsV4Mapped(*address)) {
    prefix = MakePrefix(V4(address->lo), length - 96);
  }
  return prefix;
}

absl::StatusOr<std::string> ParseDomain(absl::string_view entry) {
  absl::StatusOr<std::string> name = dns::NormalizeDomainName(entry);
  if (!name.ok()) return Neither(entry, name.status().message());
  absl::string_view last = *name;
  if (size_t dot = last.rfind('.'); dot != absl::string_view::npos) {
    last = last.substr(dot + 1);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "probe_allow: ", Quoted(entry),
        " is a single label; name a domain such as itsp.example.com, or a "
        "CIDR"));
  }
  if (IsDigits(last)) return Neither(entry, "its last label is all digits");
  return name;
}

}  // namespace

absl::StatusOr<ProbePolicy> ProbePolicy::Parse(absl::string_view flag_value) {
  ProbePolicy policy;
  for (absl::string_view raw : absl::StrSplit(flag_value, ',')) {
    absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty()) continue;
    absl::StatusOr<SplitEntry> split = SplitPorts(entry);
    if (!split.ok()) return split.status();
    std::string canonical;
    if (LooksLikeAddress(split->network)) {
      absl::StatusOr<IpPrefix> cidr = ParseCidr(split->network);
      if (!cidr.ok()) return cidr.status();
      canonical = FormatEntry(FormatPrefix(*cidr), !cidr->v4, split->ports);
      if (std::find(policy.entries_.begin(), policy.entries_.end(),
                    canonical) != policy.entries_.end()) {
        continue;
      }
      policy.cidrs_.push_back({*cidr, split->ports});
    } else {
      absl::StatusOr<std::string> domain = ParseDomain(split->network);
      if (!domain.ok()) return domain.status();
      canonical = FormatEntry(*domain, false, split->ports);
      if (std::find(policy.entries_.begin(), policy.entries_.end(),
                    canonical) != policy.entries_.end()) {
        continue;
      }
      policy.domains_.push_back({*std::move(domain), split->ports});
    }
    policy.entries_.push_back(std::move(canonical));
  }
  return policy;
}

absl::Status ProbePolicy::Check(absl::string_view address,
                                absl::string_view domain, uint16_t port) const {
  std::optional<IpAddress> parsed = ParseAddress(address);
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "probe target ", Quoted(address), " is not an IP address"));
  }
  const IpAddress target = Unmap(*parsed);
  bool other_ports = false;  // An entry matches all but the port.
  for (const CidrEntry& cidr : cidrs_) {
    if (!Contains(cidr.prefix, target)) continue;
    if (cidr.ports.Contains(port)) return absl::OkStatus();
    other_ports = true;
  }

  const absl::string_view name = MatchableDomain(domain);
  bool domain_allowed = false;
  for (const DomainEntry& entry : domains_) {
    if (!IsUnder(name, entry.name)) continue;
    if (entry.ports.Contains(port)) {
      domain_allowed = true;
      break;
    }
    other_ports = true;
  }
  std::optional<SpecialUse> special;
  if (domain_allowed) {
    special = Classify(target);
    if (!special) return absl::OkStatus();
  }

  // Denied; build the message (off the hot path).
  std::string who =
      absl::StrCat("probe target ",
                   dns::ParseIpLiteral(address).value_or(std::string(address)));
  if (!domain.empty())
    absl::StrAppend(&who, " (from ", absl::CHexEscape(domain), ")");
  if (special) {
    std::string what =
        special->embedded_in == nullptr
            ? absl::StrCat(special->what, " address")
            : absl::StrCat("a ", special->embedded_in, " address embedding ",
                           special->what, " IPv4 address");
    return absl::PermissionDeniedError(absl::StrCat(
        who, " is ", what, "; allow its range explicitly with ", kFlag));
  }
  if (other_ports) {
    return absl::PermissionDeniedError(absl::StrCat(who, " port ", port,
                                                    " is not among the ports ",
                                                    kFlag, " allows for it"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(who, " is not allowed by ", kFlag,
                   empty() ? " (empty: no probe target is allowed)" : ""));
}

std::string ProbePolicy::ToString() const {
  if (entries_.empty()) return "(none: no probe target is allowed)";
  return absl::StrJoin(entries_, ",");
}

}  // namespace sipresolver::health
