#include "lib/dns/dns_answer.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/dns_packet_builder.h"
#include "tests/support/expect_error.h"

namespace sipresolver::dns {
namespace {

using ::sipresolver::testing::DnsPacketBuilder;
using ::testing::ElementsAre;

constexpr auto kAnswer = DnsPacketBuilder::kAnswer;
constexpr auto kAuthority = DnsPacketBuilder::kAuthority;
constexpr auto kAdditional = DnsPacketBuilder::kAdditional;
constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kTypeTxt = 16;
constexpr uint16_t kTypeSrv = 33;

MATCHER_P3(IsAddress, name, address, ttl, "") {
  return arg.name == name && arg.address == address && arg.ttl == ttl;
}
MATCHER_P5(IsSrv, target, priority, weight, port, ttl, "") {
  return arg.target == target && arg.priority == priority &&
         arg.weight == weight && arg.port == port && arg.ttl == ttl;
}

using ::sipresolver::testing::ExpectError;

// A header with QR, RD and RA set and the given counts (each under 256).
std::vector<uint8_t> Header(uint8_t qd, uint8_t an, uint8_t ns, uint8_t ar) {
  return {0x12, 0x34, 0x81, 0x80, 0, qd, 0, an, 0, ns, 0, ar};
}

// Parses a copy of the first `len` bytes in a heap block of exactly that
// size, so ASan or valgrind flag any read past the end, in c-ares too.
absl::StatusOr<DnsAnswer> ParseExact(const std::vector<uint8_t>& packet,
                                     size_t len, RecordType qtype) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[len]);
  std::copy(packet.begin(), packet.begin() + len, copy.get());
  return ParseDnsAnswer(absl::MakeConstSpan(copy.get(), len), qtype);
}

std::vector<uint8_t> SrvPacket() {
  return DnsPacketBuilder()
      .SetQuestion("_sip._udp.example.com", RecordType::kSrv)
      .AddSrv(kAnswer, "_sip._udp.example.com", 10, 60, 5060,
              "sip1.example.com", 300)
      .AddSrv(kAnswer, "_sip._udp.example.com", 20, 0, 5070, "sip2.example.com",
              120)
      .AddA(kAdditional, "sip1.example.com", "192.0.2.1", 50)
      .AddAaaa(kAdditional, "sip1.example.com", "2001:db8::1", 60)
      .AddA(kAdditional, "sip2.example.com", "192.0.2.2", 70)
      .Build();
}

TEST(DnsAnswerTest, ARecordsWithSeveralAddresses) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddA(kAnswer, "sip.example.com", "192.0.2.1", 300)
          .AddA(kAnswer, "sip.example.com", "192.0.2.2", 200)
          .AddA(kAnswer, "sip.example.com", "198.51.100.7", 400)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->rcode, kRcodeNoError);
  EXPECT_EQ(answer->qname, "sip.example.com");
  EXPECT_EQ(answer->qtype, RecordType::kA);
  EXPECT_EQ(answer->canonical_name, "sip.example.com");
  EXPECT_TRUE(answer->cname_chain.empty());
  EXPECT_THAT(answer->addresses,
              ElementsAre(IsAddress("sip.example.com", "192.0.2.1", 300u),
                          IsAddress("sip.example.com", "192.0.2.2", 200u),
                          IsAddress("sip.example.com", "198.51.100.7", 400u)));
  EXPECT_TRUE(answer->srv.empty());
  EXPECT_TRUE(answer->additional.empty());
  EXPECT_EQ(answer->min_ttl, 200u);
  EXPECT_FALSE(answer->negative_ttl.has_value());
  EXPECT_FALSE(answer->empty());
  EXPECT_FALSE(answer->dangling_cname());
}

TEST(DnsAnswerTest, AaaaRecords) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kAaaa)
          .AddAaaa(kAnswer, "sip.example.com", "2001:db8::1", 60)
          .AddAaaa(kAnswer, "sip.example.com", "2001:db8:0:0:1:0:0:2", 90)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kAaaa);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(
      answer->addresses,
      ElementsAre(IsAddress("sip.example.com", "2001:db8::1", 60u),
                  IsAddress("sip.example.com", "2001:db8::1:0:0:2", 90u)));
  EXPECT_EQ(answer->min_ttl, 60u);
}

TEST(DnsAnswerTest, IgnoresOtherOwnersAndTypes) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddA(kAnswer, "other.example.com", "192.0.2.9", 5)
          .AddAaaa(kAnswer, "sip.example.com", "2001:db8::1", 6)
          .AddRaw(kAnswer, "sip.example.com", kTypeTxt, {3, 'a', 'b', 'c'}, 7)
          .AddA(kAnswer, "sip.example.com", "192.0.2.1", 300)
          .AddSoa(kAnswer, "example.com", 8, 8)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->addresses,
              ElementsAre(IsAddress("sip.example.com", "192.0.2.1", 300u)));
  EXPECT_EQ(answer->min_ttl, 300u);
  EXPECT_FALSE(answer->negative_ttl.has_value());  // SOA not in authority.
}

TEST(DnsAnswerTest, SrvWithSeveralRecordsAndAdditionalSection) {
  absl::StatusOr<DnsAnswer> answer =
      ParseDnsAnswer(SrvPacket(), RecordType::kSrv);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->canonical_name, "_sip._udp.example.com");
  EXPECT_THAT(answer->srv,
              ElementsAre(IsSrv("sip1.example.com", 10, 60, 5060, 300u),
                          IsSrv("sip2.example.com", 20, 0, 5070, 120u)));
  EXPECT_TRUE(answer->addresses.empty());
  EXPECT_THAT(answer->additional,
              ElementsAre(IsAddress("sip1.example.com", "192.0.2.1", 50u),
                          IsAddress("sip1.example.com", "2001:db8::1", 60u),
                          IsAddress("sip2.example.com", "192.0.2.2", 70u)));
  // The additional section does not count towards min_ttl.
  EXPECT_EQ(answer->min_ttl, 120u);
}

TEST(DnsAnswerTest, SrvTargetRoot) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("_sips._tcp.example.com", RecordType::kSrv)
          .AddSrv(kAnswer, "_sips._tcp.example.com", 0, 0, 0, ".", 3600)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kSrv);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->srv, ElementsAre(IsSrv(".", 0, 0, 0, 3600u)));
}

TEST(DnsAnswerTest, CnameChainToA) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddCname(kAnswer, "sip.example.com", "edge.example.net", 600)
          .AddCname(kAnswer, "edge.example.net", "pop1.cdn.example", 30)
          .AddA(kAnswer, "pop1.cdn.example", "192.0.2.10", 120)
          .AddA(kAnswer, "pop1.cdn.example", "192.0.2.11", 100)
          .AddA(kAnswer, "edge.example.net", "192.0.2.99", 1)  // Not canonical.
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->cname_chain,
              ElementsAre("edge.example.net", "pop1.cdn.example"));
  EXPECT_EQ(answer->canonical_name, "pop1.cdn.example");
  EXPECT_THAT(answer->addresses,
              ElementsAre(IsAddress("pop1.cdn.example", "192.0.2.10", 120u),
                          IsAddress("pop1.cdn.example", "192.0.2.11", 100u)));
  EXPECT_EQ(answer->min_ttl, 30u);  // The second CNAME.
  EXPECT_FALSE(answer->dangling_cname());
}

TEST(DnsAnswerTest, DanglingCname) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kAaaa)
          .AddCname(kAnswer, "sip.example.com", "elsewhere.example.net", 900)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kAaaa);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->cname_chain, ElementsAre("elsewhere.example.net"));
  EXPECT_EQ(answer->canonical_name, "elsewhere.example.net");
  EXPECT_TRUE(answer->empty());
  EXPECT_TRUE(answer->dangling_cname());
  EXPECT_EQ(answer->min_ttl, 900u);
}

TEST(DnsAnswerTest, CnameLoopIsAnError) {
  ExpectError(ParseDnsAnswer(
                  DnsPacketBuilder()
                      .SetQuestion("a.example.com", RecordType::kA)
                      .AddCname(kAnswer, "a.example.com", "b.example.com", 60)
                      .AddCname(kAnswer, "b.example.com", "c.example.com", 60)
                      .AddCname(kAnswer, "c.example.com", "b.example.com", 60)
                      .Build(),
                  RecordType::kA),
              absl::StatusCode::kInvalidArgument,
              "CNAME loop at b.example.com");
  ExpectError(ParseDnsAnswer(
                  DnsPacketBuilder()
                      .SetQuestion("a.example.com", RecordType::kA)
                      .AddCname(kAnswer, "A.example.com", "a.EXAMPLE.com", 60)
                      .Build(),
                  RecordType::kA),
              absl::StatusCode::kInvalidArgument,
              "CNAME loop at a.example.com");
}

TEST(DnsAnswerTest, CnameChainLongerThanLimitIsAnError) {
  auto chain = [](int length) {
    DnsPacketBuilder builder;
    builder.SetQuestion("n0.example.com", RecordType::kA);
    for (int i = 0; i < length; ++i) {
      builder.AddCname(kAnswer, "n" + std::to_string(i) + ".example.com",
                       "n" + std::to_string(i + 1) + ".example.com", 60);
    }
    builder.AddA(kAnswer, "n" + std::to_string(length) + ".example.com",
                 "192.0.2.1", 60);
    return builder.Build();
  };
  absl::StatusOr<DnsAnswer> answer =
      ParseDnsAnswer(chain(kMaxCnameChain), RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->cname_chain.size(), static_cast<size_t>(kMaxCnameChain));
  EXPECT_EQ(answer->addresses.size(), 1u);
  ExpectError(ParseDnsAnswer(chain(kMaxCnameChain + 1), RecordType::kA),
              absl::StatusCode::kInvalidArgument, "CNAME chain longer than 8");
}

TEST(DnsAnswerTest, NxDomainWithSoa) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetRcode(kRcodeNxDomain)
          .SetQuestion("nope.example.com", RecordType::kA)
          .AddSoa(kAuthority, "example.com", 3600, 300)
          .AddSoa(kAuthority, "example.com", 1, 1)  // Only the first counts.
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->rcode, kRcodeNxDomain);
  EXPECT_TRUE(answer->empty());
  EXPECT_FALSE(answer->dangling_cname());
  EXPECT_EQ(answer->canonical_name, "nope.example.com");
  EXPECT_EQ(answer->min_ttl, 0u);
  EXPECT_EQ(answer->negative_ttl, 300u);  // MINIMUM < TTL.

  packet = DnsPacketBuilder()
               .SetRcode(kRcodeNxDomain)
               .SetQuestion("nope.example.com", RecordType::kSrv)
               .AddSoa(kAuthority, "example.com", 45, 300)
               .Build();
  answer = ParseDnsAnswer(packet, RecordType::kSrv);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->negative_ttl, 45u);  // TTL < MINIMUM.
}

TEST(DnsAnswerTest, NxDomainAfterCnameIsNotDangling) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetRcode(kRcodeNxDomain)
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddCname(kAnswer, "sip.example.com", "gone.example.net", 60)
          .AddSoa(kAuthority, "example.net", 600, 120)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->canonical_name, "gone.example.net");
  EXPECT_FALSE(answer->dangling_cname());
  EXPECT_EQ(answer->negative_ttl, 120u);
}

TEST(DnsAnswerTest, NoData) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kAaaa)
          .AddSoa(kAuthority, "example.com", 900, 1800)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kAaaa);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->rcode, kRcodeNoError);
  EXPECT_TRUE(answer->empty());
  EXPECT_FALSE(answer->dangling_cname());
  EXPECT_EQ(answer->min_ttl, 0u);
  EXPECT_EQ(answer->negative_ttl, 900u);

  packet = DnsPacketBuilder()
               .SetQuestion("sip.example.com", RecordType::kAaaa)
               .Build();
  answer = ParseDnsAnswer(packet, RecordType::kAaaa);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->empty());
  EXPECT_FALSE(answer->negative_ttl.has_value());
}

TEST(DnsAnswerTest, MixedCaseNamesAndCompressionPointers) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .UseCompression(true)
          .SetQuestion("_SIP._Udp.Example.COM.", RecordType::kSrv)
          .AddSrv(kAnswer, "_sip._udp.example.com", 1, 2, 5060,
                  "Host1._SIP._udp.example.com", 300)
          .AddA(kAdditional, "HOST1._sip._udp.example.com", "192.0.2.1", 60)
          .AddSoa(kAuthority, "_sip._udp.example.com", 100, 50,
                  "NS._sip._udp.example.com", "_sip._udp.example.com")
          .Build();
  // Owner, SRV target, A owner, SOA owner, mname and rname are pointers.
  int pointers = 0;
  for (size_t i = 0; i + 1 < packet.size(); ++i) {
    pointers += packet[i] == 0xc0 && packet[i + 1] == 0x0c;
  }
  EXPECT_EQ(pointers, 6);
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kSrv);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->qname, "_sip._udp.example.com");
  EXPECT_EQ(answer->canonical_name, "_sip._udp.example.com");
  EXPECT_THAT(answer->srv, ElementsAre(IsSrv("host1._sip._udp.example.com", 1,
                                             2, 5060, 300u)));
  EXPECT_THAT(
      answer->additional,
      ElementsAre(IsAddress("host1._sip._udp.example.com", "192.0.2.1", 60u)));
  EXPECT_EQ(answer->negative_ttl, 50u);

  // Without compression, owners still match the question ignoring case.
  packet = DnsPacketBuilder()
               .SetQuestion("Sip.Example.com", RecordType::kA)
               .AddCname(kAnswer, "SIP.EXAMPLE.COM", "Proxy.Example.NET", 60)
               .AddA(kAnswer, "proxy.EXAMPLE.net", "192.0.2.5", 60)
               .Build();
  answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->cname_chain, ElementsAre("proxy.example.net"));
  EXPECT_THAT(answer->addresses,
              ElementsAre(IsAddress("proxy.example.net", "192.0.2.5", 60u)));
}

TEST(DnsAnswerTest, QuestionTypeMismatch) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddA(kAnswer, "sip.example.com", "192.0.2.1", 60)
          .Build();
  ExpectError(ParseDnsAnswer(packet, RecordType::kSrv),
              absl::StatusCode::kInvalidArgument,
              "question: type 1 does not match the SRV that was asked");
  ExpectError(ParseDnsAnswer(packet, RecordType::kCname),
              absl::StatusCode::kInvalidArgument, "CNAME questions");
}

TEST(DnsAnswerTest, QuestionCountMustBeOne) {
  for (uint16_t count : {0, 2}) {
    std::vector<uint8_t> packet =
        DnsPacketBuilder()
            .SetQuestion("sip.example.com", RecordType::kA)
            .SetQuestionCount(count)
            .Build();
    ExpectError(ParseDnsAnswer(packet, RecordType::kA),
                absl::StatusCode::kInvalidArgument, "want exactly 1");
  }
}

TEST(DnsAnswerTest, NotAResponse) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetResponse(false)
          .SetQuestion("sip.example.com", RecordType::kA)
          .Build();
  ExpectError(ParseDnsAnswer(packet, RecordType::kA),
              absl::StatusCode::kInvalidArgument, "not a response");
}

TEST(DnsAnswerTest, TruncatedFlagIsStillParsed) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetTruncated(true)
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddA(kAnswer, "sip.example.com", "192.0.2.1", 60)
          .Build();
  absl::StatusOr<DnsAnswer> answer = ParseDnsAnswer(packet, RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->addresses.size(), 1u);
}

TEST(DnsAnswerTest, TrailingBytesAreIgnored) {
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddA(kAnswer, "sip.example.com", "192.0.2.1", 60)
          .Build();
  packet.push_back(0xff);
  EXPECT_TRUE(ParseDnsAnswer(packet, RecordType::kA).ok());
}

TEST(DnsAnswerTest, EveryPrefixOfValidPacketsFailsCleanly) {
  struct Case {
    std::vector<uint8_t> packet;
    RecordType qtype;
  };
  std::vector<Case> cases = {
      {SrvPacket(), RecordType::kSrv},
      {DnsPacketBuilder()
           .UseCompression(true)
           .SetQuestion("Sip.Example.com", RecordType::kAaaa)
           .AddCname(kAnswer, "sip.example.com", "edge.sip.example.com", 60)
           .AddAaaa(kAnswer, "edge.sip.example.com", "2001:db8::5", 60)
           .Build(),
       RecordType::kAaaa},
      {DnsPacketBuilder()
           .SetRcode(kRcodeNxDomain)
           .SetQuestion("nope.example.com", RecordType::kA)
           .AddSoa(kAuthority, "example.com", 3600, 300)
           .Build(),
       RecordType::kA},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(ParseDnsAnswer(c.packet, c.qtype).ok());
    // The parser reads every byte up to the last record, so a proper prefix
    // can never parse.
    for (size_t len = 0; len < c.packet.size(); ++len) {
      absl::StatusOr<DnsAnswer> answer = ParseExact(c.packet, len, c.qtype);
      ASSERT_FALSE(answer.ok()) << "prefix of " << len << " bytes parsed";
      EXPECT_TRUE(absl::IsDataLoss(answer.status()) ||
                  absl::IsInvalidArgument(answer.status()))
          << answer.status();
    }
  }
  ExpectError(ParseDnsAnswer({}, RecordType::kA), absl::StatusCode::kDataLoss,
              "header: 12-byte header runs past end of packet");
}

TEST(DnsAnswerTest, RdlengthLying) {
  auto with = [](auto add) {
    DnsPacketBuilder builder;
    builder.SetQuestion("sip.example.com", RecordType::kSrv)
        .AddSrv(kAnswer, "sip.example.com", 1, 1, 5060, "a.example.com", 60)
        .AddSrv(kAnswer, "sip.example.com", 1, 1, 5060, "b.example.com", 60);
    add(builder);
    return ParseDnsAnswer(builder.Build(), RecordType::kSrv);
  };
  const std::vector<uint8_t> srv_fixed = {0, 1, 0, 1, 0x13, 0xc4};
  // RDLENGTH beyond the end of the packet.
  ExpectError(with([&](DnsPacketBuilder& b) {
                b.AddRaw(kAnswer, "sip.example.com", kTypeSrv, srv_fixed, 60,
                         100);
              }),
              absl::StatusCode::kDataLoss,
              "answer record 2: rdata runs past end of packet");
  // A and AAAA of the wrong size.
  ExpectError(
      with([](DnsPacketBuilder& b) {
        b.AddRaw(kAdditional, "a.example.com", 1, {192, 0, 2, 1, 0}, 60);
      }),
      absl::StatusCode::kInvalidArgument,
      "additional record 0: A rdlength is 5, want 4");
  ExpectError(with([](DnsPacketBuilder& b) {
                b.AddRaw(kAdditional, "a.example.com", 28, {192, 0, 2, 1}, 60);
              }),
              absl::StatusCode::kInvalidArgument,
              "AAAA rdlength is 4, want 16");
  // SRV too short for its fixed fields plus a name.
  ExpectError(with([&](DnsPacketBuilder& b) {
                b.AddRaw(kAnswer, "sip.example.com", kTypeSrv, srv_fixed, 60);
              }),
              absl::StatusCode::kInvalidArgument, "SRV rdlength is 6");
  // SRV target that continues past its RDATA into the next record.
  std::vector<uint8_t> srv = srv_fixed;
  srv.insert(srv.end(), {4, 'h', 'o', 's', 't', 0});
  ExpectError(with([&](DnsPacketBuilder& b) {
                b.AddRaw(kAnswer, "sip.example.com", kTypeSrv, srv, 60, 8)
                    .AddA(kAdditional, "host", "192.0.2.1", 60);
              }),
              absl::StatusCode::kInvalidArgument,
              "answer record 2: SRV target runs past end of its rdata");
  // CNAME with a stray byte after its target.
  ExpectError(
      with([](DnsPacketBuilder& b) {
        b.AddRaw(kAnswer, "x.example.com", kTypeCname, {1, 'y', 0, 0xff}, 60);
      }),
      absl::StatusCode::kInvalidArgument,
      "rdlength is 4 but the CNAME rdata ends after 3 bytes");
  // SOA without its five 32-bit fields.
  ExpectError(with([](DnsPacketBuilder& b) {
                b.AddRaw(kAuthority, "example.com", kTypeSoa,
                         {0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 60);
              }),
              absl::StatusCode::kInvalidArgument, "SOA rdata too short");
  // Header promises more records than there are.
  ExpectError(with([](DnsPacketBuilder& b) { b.SetCount(kAuthority, 3); }),
              absl::StatusCode::kDataLoss,
              "authority record 0: owner name runs past end of packet");
}

TEST(DnsAnswerTest, CompressionPointerLoops) {
  auto question_with_name = [](std::vector<uint8_t> name) {
    std::vector<uint8_t> packet = Header(1, 0, 0, 0);
    packet.insert(packet.end(), name.begin(), name.end());
    for (uint8_t byte : {0, 1, 0, 1}) packet.push_back(byte);
    return packet;
  };
  // A pointer to itself; a label followed by a pointer back to the label.
  for (std::vector<uint8_t> name :
       {std::vector<uint8_t>{0xc0, 0x0c},
        std::vector<uint8_t>{1, 'a', 0xc0, 0x0c},
        std::vector<uint8_t>{0xc0, 0x0e, 0xc0, 0x0c},
        std::vector<uint8_t>{0xc0, 0xff},     // Past the end of the packet.
        std::vector<uint8_t>{0x80, 0x0c}}) {  // Reserved label type.
    ExpectError(ParseDnsAnswer(question_with_name(name), RecordType::kA),
                absl::StatusCode::kInvalidArgument,
                "question: name is malformed or truncated");
  }
  // Two pointers in a CNAME's RDATA pointing at each other.
  std::vector<uint8_t> packet =
      DnsPacketBuilder()
          .SetQuestion("sip.example.com", RecordType::kA)
          .AddRaw(kAnswer, "sip.example.com", kTypeCname, {0, 0, 0, 0}, 60)
          .Build();
  const size_t rdata = packet.size() - 4;
  packet[rdata] = 0xc0;
  packet[rdata + 1] = static_cast<uint8_t>(rdata + 2);
  packet[rdata + 2] = 0xc0;
  packet[rdata + 3] = static_cast<uint8_t>(rdata);
  ExpectError(ParseDnsAnswer(packet, RecordType::kA),
              absl::StatusCode::kInvalidArgument,
              "answer record 0: CNAME target is malformed or truncated");
}

TEST(DnsAnswerTest, TooManyRecords) {
  auto with_records = [](int n) {
    DnsPacketBuilder builder;
    builder.SetQuestion("sip.example.com", RecordType::kA);
    for (int i = 0; i < n; ++i) {
      builder.AddA(
          kAnswer, "sip.example.com",
          "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
          60);
    }
    return builder.Build();
  };
  absl::StatusOr<DnsAnswer> answer =
      ParseDnsAnswer(with_records(kMaxRecordsPerSection), RecordType::kA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->addresses.size(),
            static_cast<size_t>(kMaxRecordsPerSection));
  ExpectError(
      ParseDnsAnswer(with_records(kMaxRecordsPerSection + 1), RecordType::kA),
      absl::StatusCode::kInvalidArgument,
      "too many records: 257 in answer section, limit 256");
  // A count that lies is refused before any record is read.
  ExpectError(ParseDnsAnswer(DnsPacketBuilder()
                                 .SetQuestion("sip.example.com", RecordType::kA)
                                 .SetCount(kAdditional, 65535)
                                 .Build(),
                             RecordType::kA),
              absl::StatusCode::kInvalidArgument,
              "too many records: 65535 in additional section");
}

// A small deterministic fuzz: corrupted packets must fail or parse, never
// crash or read out of bounds (run under ASan to see the latter).
TEST(DnsAnswerTest, RandomCorruptionNeverCrashes) {
  const std::vector<uint8_t> original = SrvPacket();
  std::mt19937 rng(12345);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> packet = original;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      packet[rng() % packet.size()] = static_cast<uint8_t>(rng());
    }
    const size_t len = rng() % 4 == 0 ? rng() % packet.size() : packet.size();
    absl::StatusOr<DnsAnswer> answer =
        ParseExact(packet, len, RecordType::kSrv);
    if (answer.ok()) {
      ++parsed;
      EXPECT_FALSE(answer->qname.empty());
      EXPECT_LE(answer->cname_chain.size(),
                static_cast<size_t>(kMaxCnameChain));
    } else {
      EXPECT_TRUE(absl::IsDataLoss(answer.status()) ||
                  absl::IsInvalidArgument(answer.status()))
          << answer.status();
    }
  }
  EXPECT_GT(parsed, 0);  // Corrupting a TTL or port still parses.
}

TEST(DnsAnswerTest, RecordTypeNames) {
  EXPECT_EQ(RecordTypeName(RecordType::kA), "A");
  EXPECT_EQ(RecordTypeName(RecordType::kAaaa), "AAAA");
  EXPECT_EQ(RecordTypeName(RecordType::kSrv), "SRV");
  EXPECT_EQ(RecordTypeName(RecordType::kCname), "CNAME");
  EXPECT_EQ(RecordTypeName(RecordType::kSoa), "SOA");
}

}  // namespace
}  // namespace sipresolver::dns

namespace sipresolver::dns {
namespace {

// Regressions found by the dns_answer fuzzer: c-ares 1.18 cuts a name short at
// a one-byte label holding 0x00 (a trailing dot, or "" for a non-root name).
// Such names are rejected instead of being taken for other names.
std::vector<uint8_t> FromBase64(absl::string_view b64) {
  std::string bytes;
  EXPECT_TRUE(absl::Base64Unescape(b64, &bytes));
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

TEST(DnsAnswerTest, NulLabelInSrvTargetIsRejected) {
  auto packet = FromBase64(
      "EjSBgAABAAEAAAAABF9zaXAEX3VkcAdleGFtcGxlA2NvbQAAIQABwAwAIQABAAABLAAaAAoA"
      "PBPE"
      "BHBieDEHZXhhbXBsZQNjb20BAAA=");
  auto answer = ParseDnsAnswer(packet, RecordType::kSrv);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument)
      << answer.status();
}

TEST(DnsAnswerTest, NulLabelCuttingTheQuestionNameIsRejected) {
  auto packet = FromBase64(
      "EjSBgAABAAIAAAAAA3NpcAdleGFtcGxlA2NvbQEAAAABAAHADAAAAAEAAAA8AATAAAIBwAwH"
      "AQABAAAB"
      "LAAEwAACAg==");
  auto answer = ParseDnsAnswer(packet, RecordType::kA);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument)
      << answer.status();
}

}  // namespace
}  // namespace sipresolver::dns
