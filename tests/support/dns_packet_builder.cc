#include "tests/support/dns_packet_builder.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sipresolver::testing {
namespace {

constexpr uint16_t kClassIn = 1;
constexpr uint8_t kPointerToQuestion[] = {0xc0, 0x0c};

void Put16(uint16_t v, std::vector<uint8_t>& out) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void Put32(uint32_t v, std::vector<uint8_t>& out) {
  Put16(static_cast<uint16_t>(v >> 16), out);
  Put16(static_cast<uint16_t>(v), out);
}

absl::string_view WithoutDot(absl::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// Appends the labels of `name` (no terminator).
void PutLabels(absl::string_view name, std::vector<uint8_t>& out) {
  for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
}

std::vector<uint8_t> AddressBytes(int family, const std::string& text) {
  std::vector<uint8_t> bytes(family == AF_INET ? 4 : 16);
  if (inet_pton(family, text.c_str(), bytes.data()) != 1) std::abort();
  return bytes;
}

}  // namespace

DnsPacketBuilder& DnsPacketBuilder::SetId(uint16_t id) {
  id_ = id;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetRcode(int rcode) {
  rcode_ = rcode;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetResponse(bool qr) {
  response_ = qr;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetTruncated(bool tc) {
  truncated_ = tc;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetQuestion(std::string name,
                                                dns::RecordType type) {
  qname_ = std::move(name);
  qtype_ = static_cast<uint16_t>(type);
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::UseCompression(bool on) {
  compress_ = on;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetQuestionCount(uint16_t count) {
  qdcount_ = count;
  return *this;
}
DnsPacketBuilder& DnsPacketBuilder::SetCount(Section section, uint16_t count) {
  counts_[section] = count;
  return *this;
}

DnsPacketBuilder::Record& DnsPacketBuilder::Add(Section section,
                                                std::string name, uint16_t type,
                                                uint32_t ttl) {
  Record& rec = sections_[section].emplace_back();
  rec.name = std::move(name);
  rec.type = type;
  rec.ttl = ttl;
  return rec;
}

DnsPacketBuilder& DnsPacketBuilder::AddA(Section section, std::string name,
                                         const std::string& ipv4,
                                         uint32_t ttl) {
  Add(section, std::move(name), 1, ttl).prefix = AddressBytes(AF_INET, ipv4);
  return *this;
}

DnsPacketBuilder& DnsPacketBuilder::AddAaaa(Section section, std::string name,
                                            const std::string& ipv6,
                                            uint32_t ttl) {
  Add(section, std::move(name), 28, ttl).prefix = AddressBytes(AF_INET6, ipv6);
  return *this;
}

DnsPacketBuilder& DnsPacketBuilder::AddCname(Section section, std::string name,
                                             std::string target, uint32_t ttl) {
  Add(section, std::move(name), 5, ttl).names = {std::move(target)};
  return *this;
}

DnsPacketBuilder& DnsPacketBuilder::AddSrv(Section section, std::string name,
                                           uint16_t priority, uint16_t weight,
                                           uint16_t port, std::string target,
                                           uint32_t ttl) {
  Record& rec = Add(section, std::move(name), 33, ttl);
  Put16(priority, rec.prefix);
  Put16(weight, rec.prefix);
  Put16(port, rec.prefix);
  rec.names = {std::move(target)};
  return *this;
}

DnsPacketBuilder& DnsPacketBuilder::AddSoa(Section section, std::string name,
                                           uint32_t ttl, uint32_t minimum,
                                           std::string mname,
                                           std::string rname) {
  Record& rec = Add(section, std::move(name), 6, ttl);
  rec.names = {std::move(mname), std::move(rname)};
  for (uint32_t v : {1u, 7200u, 900u, 1209600u, minimum}) Put32(v, rec.suffix);
  return *this;
}

DnsPacketBuilder& DnsPacketBuilder::AddRaw(Section section, std::string name,
                                           uint16_t type,
                                           std::vector<uint8_t> rdata,
                                           uint32_t ttl,
                                           std::optional<uint16_t> rdlength) {
  Record& rec = Add(section, std::move(name), type, ttl);
  rec.prefix = std::move(rdata);
  rec.rdlength = rdlength;
  return *this;
}

void DnsPacketBuilder::AppendName(const std::string& name,
                                  std::vector<uint8_t>& out) const {
  absl::string_view n = WithoutDot(name);
  absl::string_view q = WithoutDot(qname_);
  if (compress_ && !q.empty()) {
    if (absl::EqualsIgnoreCase(n, q)) {
      out.insert(out.end(), std::begin(kPointerToQuestion),
                 std::end(kPointerToQuestion));
      return;
    }
    if (n.size() > q.size() + 1 && n[n.size() - q.size() - 1] == '.' &&
        absl::EndsWithIgnoreCase(n, q)) {
      PutLabels(n.substr(0, n.size() - q.size() - 1), out);
      out.insert(out.end(), std::begin(kPointerToQuestion),
                 std::end(kPointerToQuestion));
      return;
    }
  }
  PutLabels(n, out);
  out.push_back(0);
}

std::vector<uint8_t> DnsPacketBuilder::Build() const {
  std::vector<uint8_t> out;
  Put16(id_, out);
  out.push_back(static_cast<uint8_t>((response_ ? 0x80 : 0) | 0x01 /* RD */ |
                                     (truncated_ ? 0x02 : 0)));
  out.push_back(static_cast<uint8_t>(0x80 /* RA */ | (rcode_ & 0x0f)));
  Put16(qdcount_.value_or(1), out);
  for (int s = 0; s < 3; ++s) {
    Put16(counts_[s].value_or(static_cast<uint16_t>(sections_[s].size())), out);
  }
  // The question is always written in full, so offset 12 holds its name.
  PutLabels(WithoutDot(qname_), out);
  out.push_back(0);
  Put16(qtype_, out);
  Put16(kClassIn, out);

  for (const std::vector<Record>& section : sections_) {
    for (const Record& rec : section) {
      AppendName(rec.name, out);
      Put16(rec.type, out);
      Put16(kClassIn, out);
      Put32(rec.ttl, out);
      std::vector<uint8_t> rdata = rec.prefix;
      for (const std::string& name : rec.names) AppendName(name, rdata);
      rdata.insert(rdata.end(), rec.suffix.begin(), rec.suffix.end());
      Put16(rec.rdlength.value_or(static_cast<uint16_t>(rdata.size())), out);
      out.insert(out.end(), rdata.begin(), rdata.end());
    }
  }
  return out;
}

}  // namespace sipresolver::testing
