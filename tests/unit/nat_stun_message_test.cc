// The STUN Binding codec (N2): RFC 5769 test vectors, real coturn answers,
// every rejection rule, and truncation/mutation loops that must never crash.
#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/nat/mapped_address.h"
#include "lib/nat/stun_message.h"
#include "tests/support/expect_error.h"
#include "tests/support/stun_response_encoder.h"

namespace sipresolver::nat {
namespace {

using ::sipresolver::testing::EncodeBindingResponse;

using ::testing::ElementsAre;

using ::sipresolver::testing::ExpectError;

// Hex digits, spaces ignored.
std::string Hex(absl::string_view hex) {
  return absl::HexStringToBytes(absl::StrReplaceAll(hex, {{" ", ""}}));
}

// Decodes a copy in a heap block of exactly the datagram's size, so ASan
// flags any read past the end.
absl::StatusOr<BindingResponse> DecodeExact(absl::string_view datagram) {
  std::unique_ptr<char[]> copy(new char[std::max<size_t>(datagram.size(), 1)]);
  std::copy(datagram.begin(), datagram.end(), copy.get());
  return DecodeBindingResponse(absl::string_view(copy.get(), datagram.size()));
}

const StunTransactionId kRfcId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// RFC 5769 2.1-2.3 (USERNAME "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt").
const std::string kRfcRequest =
    Hex("000100582112a442b7e7a701bc34d686fa87dfae"
        "80220010"
        "5354554e20746573742063 6c69656e74"
        "00240004"
        "6e0001ff"
        "80290008"
        "932ff9b151263b36"
        "00060009"
        "6576746a3a68367659202020"
        "00080014"
        "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
        "80280004"
        "e57a3bcf");
const std::string kRfcIpv4 =
    Hex("0101003c2112a442b7e7a701bc34d686fa87dfae"
        "8022000b"
        "7465737420766563746f7220"
        "00200008"
        "0001a147e112a643"
        "00080014"
        "2b91f599fd9e90c38c7489f92af9ba53f06be7d7"
        "80280004"
        "c07d4c96");
const std::string kRfcIpv6 =
    Hex("010100482112a442b7e7a701bc34d686fa87dfae"
        "8022000b"
        "7465737420766563746f7220"
        "00200014"
        "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
        "00080014"
        "a382954e4be67bf11784c97c8292c275bfe3ed41"
        "80280004"
        "c8fb0b4c");
// coturn 4.6.1's answers (see coturn_server.h): a success with
// XOR-MAPPED-ADDRESS 127.0.0.1:47711, MAPPED-ADDRESS, RESPONSE-ORIGIN and
// SOFTWARE; and 420 to a request carrying attribute 0x7777.
const std::string kCoturnSuccess =
    Hex("0101003c2112a44205d395dc10e2120273feccac0020000800019b4d5e12a443"
        "000100080001ba5f7f000001802b0008000187dd7f00000180220014436f7475"
        "726e2d342e362e312027476f72737427");
const std::string kCoturn420 =
    Hex("0111003c2112a44205d395dc10e2120273feccac000900180000041455 6e6b6e6f"
        "776e20417474726962757465000000000a00027777000080220014436f7475726e"
        "2d342e362e312027476f72737427");

TEST(StunMessageTest, Rfc5769SampleRequestFingerprint) {
  ASSERT_EQ(kRfcRequest.size(), 108u);
  EXPECT_EQ(StunFingerprint(kRfcRequest.substr(0, 100)), 0xe57a3bcfu);
  EXPECT_EQ(PeekTransactionId(kRfcRequest), kRfcId);
  // A request is no Binding response.
  ExpectError(DecodeExact(kRfcRequest), absl::StatusCode::kInvalidArgument,
              "0x0001 is not a Binding response");
}

TEST(StunMessageTest, Rfc5769Ipv4Response) {
  auto r = DecodeExact(kRfcIpv4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->transaction_id, kRfcId);
  ASSERT_TRUE(r->xor_mapped_address.has_value());
  EXPECT_EQ(*r->xor_mapped_address, (StunAddress{"192.0.2.1", 32853}));
  EXPECT_EQ(*r->mapped(), (StunAddress{"192.0.2.1", 32853}));
  EXPECT_EQ(r->software, "test vector");
  EXPECT_TRUE(r->message_integrity);
  EXPECT_TRUE(r->fingerprint);
  EXPECT_TRUE(r->unknown_required.empty());
}

TEST(StunMessageTest, Rfc5769Ipv6Response) {
  auto r = DecodeExact(kRfcIpv6);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->mapped(),
            (StunAddress{"2001:db8:1234:5678:11:2233:4455:6677", 32853}));
  EXPECT_TRUE(r->fingerprint);
}

TEST(StunMessageTest, CoturnSuccessPrefersXorMappedAddress) {
  auto r = DecodeExact(kCoturnSuccess);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->xor_mapped_address, (StunAddress{"127.0.0.1", 47711}));
  EXPECT_EQ(*r->mapped_address, (StunAddress{"127.0.0.1", 47711}));
  EXPECT_EQ(r->mapped(), &*r->xor_mapped_address);
  EXPECT_EQ(r->software, "Coturn-4.6.1 'Gorst'");
  EXPECT_FALSE(r->fingerprint);
  EXPECT_TRUE(r->unknown_required.empty());  // RESPONSE-ORIGIN is optional.
}

TEST(StunMessageTest, CoturnErrorCodeAndUnknownAttributes) {
  auto r = DecodeExact(kCoturn420);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->error_code, 420);
  EXPECT_EQ(r->error_reason, "Unknown Attribute");
  EXPECT_THAT(r->unknown_attributes, ElementsAre(0x7777));
  EXPECT_EQ(r->mapped(), nullptr);
}

TEST(StunMessageTest, EncodesABareBindingRequest) {
  auto m = EncodeBindingRequest(kRfcId, {"", false});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m, Hex("000100002112a442b7e7a701bc34d686fa87dfae"));
}

TEST(StunMessageTest, EncodesSoftwareWithZeroPaddingAndFingerprintLast) {
  auto m = EncodeBindingRequest(kRfcId, {"abc", true});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 20u + 8u + 8u);
  EXPECT_EQ(m->substr(0, 4), Hex("00010010"));  // Length 16.
  EXPECT_EQ(m->substr(20, 8), Hex("8022000361626300"));
  EXPECT_EQ(m->substr(28, 4), Hex("80280004"));
  const uint32_t crc = StunFingerprint(m->substr(0, 28));
  EXPECT_EQ(m->substr(32), Hex(absl::StrFormat("%08x", crc)));
  EXPECT_EQ(PeekTransactionId(*m), kRfcId);
}

TEST(StunMessageTest, SoftwareLongerThan763BytesIsRejected) {
  ExpectError(EncodeBindingRequest(kRfcId, {std::string(764, 'x'), true}),
              absl::StatusCode::kInvalidArgument, "software");
  EXPECT_TRUE(EncodeBindingRequest(kRfcId, {std::string(763, 'x'), true}).ok());
}

TEST(StunMessageTest, ResponsesRoundTrip) {
  BindingResponse v4;
  v4.transaction_id = kRfcId;
  v4.xor_mapped_address = StunAddress{"198.51.100.7", 4242};
  v4.software = "odd";
  BindingResponse v6 = v4;
  v6.xor_mapped_address = StunAddress{"2001:db8::1", 65535};
  v6.mapped_address = StunAddress{"::1", 1};
  BindingResponse legacy;
  legacy.mapped_address = StunAddress{"10.0.0.1", 5060};
  BindingResponse error;
  error.success = false;
  error.error_code = 487;
  error.error_reason = "Role Conflict";
  error.unknown_attributes = {0x0024, 0x7777, 0x0001};
  for (const BindingResponse& in : {v4, v6, legacy, error}) {
    for (bool fingerprint : {false, true}) {
      auto bytes = EncodeBindingResponse(in, fingerprint);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      auto out = DecodeExact(*bytes);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->success, in.success);
      EXPECT_EQ(out->transaction_id, in.transaction_id);
      EXPECT_EQ(out->xor_mapped_address, in.xor_mapped_address);
      EXPECT_EQ(out->mapped_address, in.mapped_address);
      EXPECT_EQ(out->error_code, in.error_code);
      EXPECT_EQ(out->error_reason, in.error_reason);
      EXPECT_EQ(out->unknown_attributes, in.unknown_attributes);
      EXPECT_EQ(out->software, in.software);
      EXPECT_EQ(out->fingerprint, fingerprint);
    }
  }
}

TEST(StunMessageTest, EncoderRejectsBadFields) {
  BindingResponse r;
  r.xor_mapped_address = StunAddress{"example.com", 1};
  ExpectError(EncodeBindingResponse(r), absl::StatusCode::kInvalidArgument,
              "not an IP address");
  r.xor_mapped_address.reset();
  r.error_code = 700;
  ExpectError(EncodeBindingResponse(r), absl::StatusCode::kInvalidArgument,
              "outside 300-699");
}

// Builds a success response with the given raw attribute bytes.
std::string WithAttributes(absl::string_view attributes,
                           uint16_t type = kStunBindingSuccess) {
  std::string m = Hex("00000000 2112a442 b7e7a701bc34d686fa87dfae");
  m[0] = static_cast<char>(type >> 8);
  m[1] = static_cast<char>(type & 0xFF);
  m[2] = static_cast<char>(attributes.size() >> 8);
  m[3] = static_cast<char>(attributes.size() & 0xFF);
  return m + std::string(attributes);
}

TEST(StunMessageTest, HeaderRejections) {
  ExpectError(DecodeExact(""), absl::StatusCode::kInvalidArgument,
              "shorter than the 20-byte header");
  ExpectError(DecodeExact(kRfcIpv4.substr(0, 19)),
              absl::StatusCode::kInvalidArgument, "20-byte header");
  std::string m = kRfcIpv4;
  m[0] = static_cast<char>(0x41);
  ExpectError(DecodeExact(m), absl::StatusCode::kInvalidArgument,
              "top two bits");
  m = kRfcIpv4;
  m[4] = 0;
  ExpectError(DecodeExact(m), absl::StatusCode::kInvalidArgument,
              "magic cookie");
  m = kRfcIpv4;
  m[3] = 0x3d;
  ExpectError(DecodeExact(m), absl::StatusCode::kInvalidArgument,
              "not a multiple of 4");
  ExpectError(DecodeExact(kRfcIpv4.substr(0, 76)), absl::StatusCode::kDataLoss,
              "truncated");
  ExpectError(DecodeExact(kRfcIpv4 + "abcd"),
              absl::StatusCode::kInvalidArgument, "4 bytes after the message");
  ExpectError(DecodeExact(WithAttributes("", 0x0112)),
              absl::StatusCode::kInvalidArgument, "0x0112 is not a Binding");
  // An RFC 3489 answer (no magic cookie), as coturn sends to such requests.
  ExpectError(DecodeExact(Hex("0101000c12345678aaaaaaaaaaaaaaaaaaaaaaaa"
                              "0001000800010f0f7f000001")),
              absl::StatusCode::kInvalidArgument, "RFC 3489");
}

TEST(StunMessageTest, AttributeRejections) {
  ExpectError(DecodeExact(WithAttributes(Hex("80220008616263"
                                             "00"))),
              absl::StatusCode::kInvalidArgument, "overruns");
  ExpectError(DecodeExact(WithAttributes(Hex("002000080003a147e112a643"))),
              absl::StatusCode::kInvalidArgument, "unknown address family");
  ExpectError(DecodeExact(WithAttributes(Hex("002000080002a147e112a643"))),
              absl::StatusCode::kInvalidArgument, "length 8 for IPv6");
  ExpectError(DecodeExact(WithAttributes(Hex("000100040001a147"))),
              absl::StatusCode::kInvalidArgument, "MAPPED-ADDRESS has length");
  ExpectError(
      DecodeExact(WithAttributes(Hex("0009000400000764"), kStunBindingError)),
      absl::StatusCode::kInvalidArgument, "class 7");
  ExpectError(
      DecodeExact(WithAttributes(Hex("0009000400000464"), kStunBindingError)),
      absl::StatusCode::kInvalidArgument, "number 100");
  ExpectError(
      DecodeExact(WithAttributes(Hex("000a00037777ff00"), kStunBindingError)),
      absl::StatusCode::kInvalidArgument, "odd length");
  ExpectError(DecodeExact(WithAttributes(Hex("0008000400000000"))),
              absl::StatusCode::kInvalidArgument, "MESSAGE-INTEGRITY");
}

TEST(StunMessageTest, FingerprintMustMatchAndBeLast) {
  std::string m = kRfcIpv4;
  m[25] ^= 0x01;  // In SOFTWARE: covered by the CRC only.
  ExpectError(DecodeExact(m), absl::StatusCode::kInvalidArgument,
              "FINGERPRINT 0xC07D4C96 does not match");
  // An attribute after a FINGERPRINT that matches (computed with the
  // length that covers the extra attribute).
  std::string after = WithAttributes(Hex("80280004 00000000 80220000"));
  const uint32_t crc = StunFingerprint(after.substr(0, 20));
  for (int i = 0; i < 4; ++i)
    after[24 + i] = static_cast<char>(crc >> (24 - 8 * i));
  ExpectError(DecodeExact(after), absl::StatusCode::kInvalidArgument,
              "after FINGERPRINT");
  ExpectError(DecodeExact(WithAttributes(Hex("8028000800000000 00000000"))),
              absl::StatusCode::kInvalidArgument, "not 4 bytes");
}

TEST(StunMessageTest, UnknownComprehensionRequiredAttributesAreReported) {
  auto r = DecodeExact(
      WithAttributes(Hex("7777000100000000"  // Unknown, required: reported.
                         "c0010002abcd0000"  // Unknown, optional: skipped.
                         "0006000161000000"  // USERNAME: known, ignored.
                         "7777000000060000"  // Reported once.
                         "0024000400000000"  // PRIORITY (ICE): required here.
                         "00200008 0001a147e112a643")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->unknown_required, ElementsAre(0x7777, 0x0024));
  EXPECT_EQ(r->mapped()->address, "192.0.2.1");
}

TEST(StunMessageTest, FirstOccurrenceWinsAndIntegrityEndsTheAttributes) {
  auto r = DecodeExact(WithAttributes(
      Hex("00200008 0001a147e112a643"                          // 192.0.2.1
          "00200008 0001a147e112a644"                          // Ignored.
          "00080014 0000000000000000000000000000000000000000"  // MI.
          "00010008 0001000a0a000001")));                      // After MI.
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->xor_mapped_address->address, "192.0.2.1");
  EXPECT_FALSE(r->mapped_address.has_value());
  EXPECT_TRUE(r->message_integrity);
  // Even an empty first SOFTWARE wins.
  r = DecodeExact(WithAttributes(Hex("80220000 8022000161000000")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->software, "");
}

TEST(StunMessageTest, PeekNeedsAWholeStunHeader) {
  EXPECT_EQ(PeekTransactionId(kRfcIpv4), kRfcId);
  EXPECT_EQ(PeekTransactionId(kRfcIpv4.substr(0, 79)), std::nullopt);
  EXPECT_EQ(PeekTransactionId("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x\r\n\r\n"),
            std::nullopt);
  EXPECT_EQ(PeekTransactionId(""), std::nullopt);
  EXPECT_EQ(TransactionIdHex(kRfcId), "b7e7a701bc34d686fa87dfae");
}

// The seeds of tests/fuzz/corpus/stun/, read from the source tree.
std::string Seed(const std::string& name) {
  const absl::string_view file = __FILE__;
  const std::string path = absl::StrCat(file.substr(0, file.rfind("/unit/")),
                                        "/fuzz/corpus/stun/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(StunMessageTest, FuzzCorpusSeedsAreTheVectors) {
  EXPECT_EQ(Seed("rfc5769_request"), kRfcRequest);
  EXPECT_EQ(Seed("rfc5769_response_ipv4"), kRfcIpv4);
  EXPECT_EQ(Seed("rfc5769_response_ipv6"), kRfcIpv6);
  EXPECT_EQ(Seed("coturn_binding_success"), kCoturnSuccess);
  EXPECT_EQ(Seed("coturn_420_unknown_attribute"), kCoturn420);
  auto r = DecodeExact(Seed("coturn_binding_success_fingerprint"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->fingerprint);
}

// Every prefix and every single-byte cut of the vectors: an error, never a
// crash, and never a success that drops bytes.
TEST(StunMessageTest, TruncationsNeverCrash) {
  for (const std::string& m :
       {kRfcRequest, kRfcIpv4, kRfcIpv6, kCoturnSuccess, kCoturn420}) {
    for (size_t n = 0; n < m.size(); ++n) {
      EXPECT_FALSE(DecodeExact(m.substr(0, n)).ok()) << n;
      std::string cut = m;
      cut.erase(n, 1);
      DecodeExact(cut).IgnoreError();
    }
  }
}

// A mini fuzzer with a fixed seed (run under ASan/UBSan for full value):
// mutated messages and random bytes decode or fail, and what decodes holds
// the invariants.
TEST(StunMessageTest, MutatedMessagesNeverCrash) {
  const std::vector<std::string> seeds = {kRfcIpv4, kRfcIpv6, kCoturnSuccess,
                                          kCoturn420, kRfcRequest};
  std::mt19937 rng(20240611);
  auto pick = [&rng](size_t n) {
    return n == 0 ? size_t{0}
                  : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  int decoded = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string m;
    if (i % 10 == 0) {  // Random bytes behind a valid header.
      m = kRfcIpv4.substr(0, 20);
      const size_t n = 4 * pick(16);
      for (size_t k = 0; k < n; ++k) m.push_back(static_cast<char>(pick(256)));
      m[2] = static_cast<char>(n >> 8);
      m[3] = static_cast<char>(n & 0xFF);
    } else {
      m = seeds[pick(seeds.size())];
      m[1] = static_cast<char>(pick(2) ? 0x01 : 0x11);  // A response type.
      const int mutations = 1 + static_cast<int>(pick(4));
      for (int k = 0; k < mutations && !m.empty(); ++k) {
        const size_t at = pick(m.size());
        switch (pick(5)) {
          case 0:
            m[at] = static_cast<char>(pick(256));
            break;
          case 1:
            m[at] = static_cast<char>(m[at] ^ (1 << pick(8)));
            break;
          case 2:
            m.insert(at, m.substr(pick(m.size()), 4 * (1 + pick(4))));
            break;
          case 3:
            m.erase(at, 4 * (1 + pick(4)));
            break;
          case 4:  // Make the header length agree with the size.
            if (m.size() >= 20) {
              m[2] = static_cast<char>((m.size() - 20) >> 8);
              m[3] = static_cast<char>((m.size() - 20) & 0xFF);
            }
            break;
        }
      }
    }
    PeekTransactionId(m);
    auto r = DecodeExact(m);
    if (!r.ok()) continue;
    ++decoded;
    for (const std::optional<StunAddress>* a :
         {&r->xor_mapped_address, &r->mapped_address}) {
      if (a->has_value()) {
        ASSERT_EQ(CanonicalIp((*a)->address), (*a)->address);
      }
    }
    if (r->error_code.has_value()) {
      ASSERT_GE(*r->error_code, 300);
      ASSERT_LE(*r->error_code, 699);
    }
    ASSERT_LE(r->unknown_required.size(), 32u);
    ASSERT_LE(r->software.size(), kStunMaxTextSize);
    // The encoder is the inverse of what was decoded.
    auto bytes = EncodeBindingResponse(*r, r->fingerprint);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto again = DecodeExact(*bytes);
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_EQ(again->xor_mapped_address, r->xor_mapped_address);
    ASSERT_EQ(again->mapped_address, r->mapped_address);
    ASSERT_EQ(again->error_code, r->error_code);
    ASSERT_EQ(again->error_reason, r->error_reason);
    ASSERT_EQ(again->unknown_attributes, r->unknown_attributes);
    ASSERT_EQ(again->software, r->software);
    ASSERT_EQ(again->success, r->success);
  }
  // Mutations leave some messages valid, so the attribute paths were reached.
  EXPECT_GT(decoded, 300);
}

}  // namespace
}  // namespace sipresolver::nat
