// DnsPacketBuilder: builds DNS response packets (RFC 1035 4.1) for tests of
// code that parses them, including deliberately malformed ones.
//
//   std::vector<uint8_t> packet =
//       DnsPacketBuilder()
//           .SetQuestion("sip.example.com", dns::RecordType::kA)
//           .AddA(DnsPacketBuilder::kAnswer, "sip.example.com", "192.0.2.1",
//                 /*ttl=*/60)
//           .Build();
//
// Names are written as given (case kept, one trailing dot ignored); "" and
// "." are the root. Labels are not checked: keep them under 64 bytes.
#ifndef SIPRESOLVER_TESTS_SUPPORT_DNS_PACKET_BUILDER_H_
#define SIPRESOLVER_TESTS_SUPPORT_DNS_PACKET_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/dns/dns_answer.h"

namespace sipresolver::testing {

class DnsPacketBuilder {
 public:
  enum Section { kAnswer = 0, kAuthority = 1, kAdditional = 2 };

  DnsPacketBuilder& SetId(uint16_t id);
  DnsPacketBuilder& SetRcode(int rcode);    // Low 4 bits of byte 3.
  DnsPacketBuilder& SetResponse(bool qr);   // QR bit; default true.
  DnsPacketBuilder& SetTruncated(bool tc);  // TC bit; default false.
  DnsPacketBuilder& SetQuestion(std::string name, dns::RecordType type);
  // When on, every name equal to the question name (ignoring case), or ending
  // in "." and the question name, is written with a compression pointer to
  // the question name at offset 12. Applies at Build(); off by default.
  DnsPacketBuilder& UseCompression(bool on);
  // Header counts that lie: written instead of the real ones.
  DnsPacketBuilder& SetQuestionCount(uint16_t count);
  DnsPacketBuilder& SetCount(Section section, uint16_t count);

  DnsPacketBuilder& AddA(Section section, std::string name,
                         const std::string& ipv4, uint32_t ttl);
  DnsPacketBuilder& AddAaaa(Section section, std::string name,
                            const std::string& ipv6, uint32_t ttl);
  DnsPacketBuilder& AddCname(Section section, std::string name,
                             std::string target, uint32_t ttl);
  DnsPacketBuilder& AddSrv(Section section, std::string name, uint16_t priority,
                           uint16_t weight, uint16_t port, std::string target,
                           uint32_t ttl);
  // SOA with serial 1, refresh 7200, retry 900, expire 1209600.
  DnsPacketBuilder& AddSoa(Section section, std::string name, uint32_t ttl,
                           uint32_t minimum,
                           std::string mname = "ns.example.com",
                           std::string rname = "hostmaster.example.com");
  // Any type with the given RDATA bytes; `rdlength` overrides the length
  // field (to make it lie), otherwise it is rdata.size().
  DnsPacketBuilder& AddRaw(Section section, std::string name, uint16_t type,
                           std::vector<uint8_t> rdata, uint32_t ttl,
                           std::optional<uint16_t> rdlength = std::nullopt);

  std::vector<uint8_t> Build() const;

 private:
  // RDATA is `prefix`, then `names` encoded (compressed if enabled), then
  // `suffix`; names are encoded at Build() so UseCompression applies.
  struct Record {
    std::string name;
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> prefix;
    std::vector<std::string> names;
    std::vector<uint8_t> suffix;
    std::optional<uint16_t> rdlength;
  };
  // Appends a record with empty RDATA and returns it to be filled in.
  Record& Add(Section section, std::string name, uint16_t type, uint32_t ttl);
  void AppendName(const std::string& name, std::vector<uint8_t>& out) const;

  uint16_t id_ = 0x1234;
  int rcode_ = 0;
  bool response_ = true;
  bool truncated_ = false;
  bool compress_ = false;
  std::string qname_ = ".";
  uint16_t qtype_ = 1;
  std::optional<uint16_t> qdcount_;
  std::optional<uint16_t> counts_[3];
  std::vector<Record> sections_[3];
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_DNS_PACKET_BUILDER_H_
