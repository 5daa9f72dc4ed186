#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/sip/digest.h"
#include "tests/support/expect_error.h"

// Where an expected hash comes from:
// - RFC 2617 3.5 and RFC 7616 3.9.1: the responses printed in the RFCs.
// - Every other value was computed outside this code, with coreutils and
//   cross-checked with Python's hashlib (both agreed), using
//     h() { printf '%s' "$2" | "$1"sum | cut -d' ' -f1; }   # h md5|sha256 TEXT
//   and the formula written above each test. The SIP-shaped inputs are:
//     U=alice P=wonderland R=example.com N=4a8f3bc1e2d7 M=REGISTER
//     URI=sip:example.com C=0a4f113b, nc 00000001 unless stated.

namespace sipresolver::sip {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// RFC 7616 3.9.1 inputs.
constexpr char kRfc7616Nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr char kRfc7616Cnonce[] =
    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr char kRfc7616Opaque[] =
    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

DigestChallenge Rfc7616Challenge(const std::string& algorithm) {
  return {"http-auth@example.org",
          kRfc7616Nonce,
          kRfc7616Opaque,
          algorithm,
          {"auth"}};
}
const DigestCredentials kMufasa{"Mufasa", "Circle of Life"};
const DigestResponseParams kRfc7616Params{"GET", "/dir/index.html",
                                          kRfc7616Cnonce, 1};

// A registrar's challenge to a REGISTER probe (no opaque).
DigestChallenge SipChallenge(const std::string& algorithm,
                             std::vector<std::string> qop) {
  return {"example.com", "4a8f3bc1e2d7", "", algorithm, std::move(qop)};
}
const DigestCredentials kAlice{"alice", "wonderland"};
const DigestResponseParams kRegister{"REGISTER", "sip:example.com", "0a4f113b",
                                     1};

using ::sipresolver::testing::ExpectError;

// The response hash alone (the header's response="..."), to compare with
// published vectors; the header's errors unchanged.
absl::StatusOr<std::string> DigestResponse(const DigestChallenge& challenge,
                                           const DigestCredentials& credentials,
                                           const DigestResponseParams& params) {
  absl::StatusOr<std::string> header =
      DigestAuthorizationHeader(challenge, credentials, params);
  if (!header.ok()) return header.status();
  constexpr absl::string_view kField = "response=\"";
  const absl::string_view line = *header;
  const size_t begin = line.find(kField);
  if (begin == absl::string_view::npos) {
    return absl::InternalError(absl::StrCat("no response in ", line));
  }
  const size_t start = begin + kField.size();
  return std::string(line.substr(start, line.find('"', start) - start));
}

TEST(SipDigestTest, Rfc2617Section35Example) {
  DigestChallenge challenge{"testrealm@host.com",
                            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                            "5ccc069c403ebaf9f0171e9517f40e41",
                            "",
                            {"auth,auth-int"}};
  DigestCredentials credentials{"Mufasa", "Circle Of Life"};
  DigestResponseParams params{"GET", "/dir/index.html", "0a4f113b", 1};
  EXPECT_EQ(DigestResponse(challenge, credentials, params).value(),
            "6629fae49393a05397450978507c4ef1");
}

TEST(SipDigestTest, Rfc7616Section391Md5Example) {
  EXPECT_EQ(
      DigestResponse(Rfc7616Challenge("MD5"), kMufasa, kRfc7616Params).value(),
      "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(SipDigestTest, Rfc7616Section391Sha256Example) {
  EXPECT_EQ(DigestResponse(Rfc7616Challenge("SHA-256"), kMufasa, kRfc7616Params)
                .value(),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(SipDigestTest, HeaderHasEveryParameterQuotedAsRfc7616) {
  EXPECT_EQ(
      DigestAuthorizationHeader(Rfc7616Challenge("SHA-256"), kMufasa,
                                kRfc7616Params)
          .value(),
      "Authorization: Digest username=\"Mufasa\", "
      "realm=\"http-auth@example.org\", "
      "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
      "uri=\"/dir/index.html\", "
      "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb"
      "6c1\", algorithm=SHA-256, "
      "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
      "nc=00000001, opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
}

// RFC 2069: h md5 "$(h md5 U:R:P):N:$(h md5 M:URI)".
TEST(SipDigestTest, NoQopUsesRfc2069Formula) {
  EXPECT_EQ(DigestResponse(SipChallenge("", {}), kAlice, kRegister).value(),
            "9c4444bdeaceb17e7d783dc0347e8a35");
  // Same with sha256 throughout.
  EXPECT_EQ(
      DigestResponse(SipChallenge("SHA-256", {}), kAlice, kRegister).value(),
      "fdcc7fc505b45af1412f57076d626096b84e453033e1b121845f536315e8d84a");
}

TEST(SipDigestTest, NoQopHeaderHasNoCnonceQopOrNc) {
  EXPECT_EQ(DigestAuthorizationHeader(SipChallenge("", {}), kAlice, kRegister)
                .value(),
            "Authorization: Digest username=\"alice\", realm=\"example.com\", "
            "nonce=\"4a8f3bc1e2d7\", uri=\"sip:example.com\", "
            "response=\"9c4444bdeaceb17e7d783dc0347e8a35\", algorithm=MD5");
}

// HA1 = h md5 "$(h md5 U:R:P):N:C" (hex inner hash, RFC 7616 3.4.2);
// response = h md5 "HA1:N:00000001:C:auth:$(h md5 M:URI)".
TEST(SipDigestTest, Md5SessKnownAnswer) {
  EXPECT_EQ(
      DigestResponse(SipChallenge("MD5-sess", {"auth"}), kAlice, kRegister)
          .value(),
      "5be6ab61b0ef1b247e1efbc65fa3791e");
  // The RFC 7616 inputs with MD5-sess.
  EXPECT_EQ(
      DigestResponse(Rfc7616Challenge("MD5-sess"), kMufasa, kRfc7616Params)
          .value(),
      "e783283f46242139c486a698fec7211d");
}

// As Md5SessKnownAnswer with sha256 throughout.
TEST(SipDigestTest, Sha256SessKnownAnswer) {
  EXPECT_EQ(
      DigestResponse(SipChallenge("SHA-256-sess", {"auth"}), kAlice, kRegister)
          .value(),
      "3ed1e280b6336d3892c89a91ed824d615af6692cbb8caa7922a0b5ec3560803b");
  EXPECT_EQ(
      DigestResponse(Rfc7616Challenge("SHA-256-sess"), kMufasa, kRfc7616Params)
          .value(),
      "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
}

TEST(SipDigestTest, AlgorithmMatchedWithoutRegardToCaseAndEchoed) {
  absl::StatusOr<std::string> header = DigestAuthorizationHeader(
      Rfc7616Challenge("sha-256"), kMufasa, kRfc7616Params);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header, HasSubstr("response=\"753927fa0e85d155564e2e272a28d180"
                                 "2ca10daf4496794697cf8db5856cb6c1\""));
  EXPECT_THAT(*header, HasSubstr(", algorithm=sha-256,"));
  EXPECT_THAT(DigestAuthorizationHeader(SipChallenge("md5-SESS", {"auth"}),
                                        kAlice, kRegister)
                  .value(),
              HasSubstr(", algorithm=md5-SESS,"));
}

TEST(SipDigestTest, AuthChosenWhenAuthIntAlsoOffered) {
  absl::StatusOr<std::string> header = DigestAuthorizationHeader(
      SipChallenge("MD5", {"auth-int", " AUTH "}), kAlice, kRegister);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header, HasSubstr(", qop=auth,"));
}

// H(entity-body) of "": B=$(h md5 '') = d41d8cd98f00b204e9800998ecf8427e;
// response = h md5 "$(h md5 U:R:P):N:00000001:C:auth-int:$(h md5 M:URI:B)".
TEST(SipDigestTest, AuthIntOnlyHashesEmptyBody) {
  absl::StatusOr<std::string> header = DigestAuthorizationHeader(
      SipChallenge("MD5", {"auth-int"}), kAlice, kRegister);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header,
              HasSubstr("response=\"783cae58d6bf72fd5089c40b602abe2d\""));
  EXPECT_THAT(*header, HasSubstr(", qop=auth-int, nc=00000001"));
  // Same with sha256 throughout.
  EXPECT_EQ(
      DigestResponse(SipChallenge("SHA-256", {"auth-int"}), kAlice, kRegister)
          .value(),
      "aa09d52c0e0048a8493de271c52529826aaf33365db54cea65166f2b562c81a1");
}

TEST(SipDigestTest, ProxyChallengeAnsweredWithProxyAuthorization) {
  DigestChallenge challenge = SipChallenge("MD5", {"auth"});
  challenge.proxy = true;
  EXPECT_THAT(DigestAuthorizationHeader(challenge, kAlice, kRegister).value(),
              StartsWith("Proxy-Authorization: Digest username=\"alice\", "));
  challenge.proxy = false;
  EXPECT_THAT(DigestAuthorizationHeader(challenge, kAlice, kRegister).value(),
              StartsWith("Authorization: Digest username=\"alice\", "));
}

// response = h md5 "$(h md5 U:R:P):N:00001a2b:C:auth:$(h md5 M:URI)".
TEST(SipDigestTest, NonceCountIsEightLowerCaseHexDigits) {
  DigestResponseParams params = kRegister;
  params.nonce_count = 0x1a2b;
  absl::StatusOr<std::string> header =
      DigestAuthorizationHeader(SipChallenge("MD5", {"auth"}), kAlice, params);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header, HasSubstr(", nc=00001a2b"));
  EXPECT_THAT(*header,
              HasSubstr("response=\"1c4eaf3f99f3cc757a9fc4516f248765\""));
  params.nonce_count = UINT32_MAX;
  EXPECT_THAT(
      DigestAuthorizationHeader(SipChallenge("MD5", {"auth"}), kAlice, params)
          .value(),
      HasSubstr(", nc=ffffffff"));
}

TEST(SipDigestTest, OpaqueOnlyWhenPresent) {
  DigestChallenge challenge = SipChallenge("MD5", {"auth"});
  EXPECT_THAT(DigestAuthorizationHeader(challenge, kAlice, kRegister).value(),
              Not(HasSubstr("opaque")));
  challenge.opaque = "5ccc069c403ebaf9";
  EXPECT_THAT(DigestAuthorizationHeader(challenge, kAlice, kRegister).value(),
              HasSubstr(", opaque=\"5ccc069c403ebaf9\""));
}

// The input named `field`, so a test can spoil one at a time.
std::string& FieldOf(const std::string& field, DigestChallenge& challenge,
                     DigestCredentials& credentials,
                     DigestResponseParams& params) {
  if (field == "username") return credentials.username;
  if (field == "realm") return challenge.realm;
  if (field == "nonce") return challenge.nonce;
  if (field == "uri") return params.uri;
  if (field == "cnonce") return params.cnonce;
  return challenge.opaque;
}

TEST(SipDigestTest, RefusesValuesThatWouldBreakOutOfQuotes) {
  const std::string bad_values[] = {
      "a\r\nVia: x",          "a\nb", "a\rb", "a\"b", "a\\",
      std::string("a\0b", 3), "a\x7f"};
  for (const std::string& bad : bad_values) {
    for (const char* field :
         {"username", "realm", "nonce", "uri", "cnonce", "opaque"}) {
      SCOPED_TRACE(absl::StrCat(field, " = ", absl::CHexEscape(bad)));
      DigestChallenge challenge = SipChallenge("MD5", {"auth"});
      DigestCredentials credentials = kAlice;
      DigestResponseParams params = kRegister;
      std::string& target = FieldOf(field, challenge, credentials, params);
      target = bad;
      ExpectError(DigestAuthorizationHeader(challenge, credentials, params),
                  absl::StatusCode::kInvalidArgument, field);
      ExpectError(DigestResponse(challenge, credentials, params),
                  absl::StatusCode::kInvalidArgument, field);
    }
  }
}

TEST(SipDigestTest, AllowsTabAndUtf8InQuotedValues) {
  DigestCredentials credentials{"j\xc3\xb6rg\tx", "pw"};
  EXPECT_TRUE(DigestAuthorizationHeader(SipChallenge("MD5", {"auth"}),
                                        credentials, kRegister)
                  .ok());
}

TEST(SipDigestTest, UnsupportedAlgorithmIsUnimplemented) {
  for (const char* algorithm : {"SHA-512-256", "AKAv1-MD5", "MD5\r\nX: y"}) {
    ExpectError(DigestAuthorizationHeader(SipChallenge(algorithm, {"auth"}),
                                          kAlice, kRegister),
                absl::StatusCode::kUnimplemented, absl::CHexEscape(algorithm));
  }
}

TEST(SipDigestTest, UnknownQopOnlyIsUnimplemented) {
  ExpectError(
      DigestResponse(SipChallenge("MD5", {"auth-conf"}), kAlice, kRegister),
      absl::StatusCode::kUnimplemented, "auth-conf");
}

TEST(SipDigestTest, MissingRealmOrNonceIsInvalid) {
  DigestChallenge challenge = SipChallenge("MD5", {"auth"});
  challenge.realm.clear();
  ExpectError(DigestAuthorizationHeader(challenge, kAlice, kRegister),
              absl::StatusCode::kInvalidArgument, "realm");
  challenge = SipChallenge("MD5", {"auth"});
  challenge.nonce.clear();
  ExpectError(DigestAuthorizationHeader(challenge, kAlice, kRegister),
              absl::StatusCode::kInvalidArgument, "nonce");
}

TEST(SipDigestTest, QopNeedsCnonceAndNonZeroNonceCount) {
  DigestResponseParams params = kRegister;
  params.cnonce.clear();
  ExpectError(DigestResponse(SipChallenge("MD5", {"auth"}), kAlice, params),
              absl::StatusCode::kInvalidArgument, "cnonce");
  // Without qop the cnonce is neither hashed nor sent, so none is needed.
  EXPECT_TRUE(DigestResponse(SipChallenge("MD5", {}), kAlice, params).ok());
  params = kRegister;
  params.nonce_count = 0;
  ExpectError(DigestResponse(SipChallenge("MD5", {"auth"}), kAlice, params),
              absl::StatusCode::kInvalidArgument, "nonce_count");
}

// The server could not reproduce a -sess H(A1) without the cnonce, which may
// not be sent without qop.
TEST(SipDigestTest, SessAlgorithmWithoutQopIsInvalid) {
  ExpectError(
      DigestResponse(SipChallenge("SHA-256-sess", {}), kAlice, kRegister),
      absl::StatusCode::kInvalidArgument, "requires a qop");
}

TEST(SipDigestTest, MethodMustBeAToken) {
  DigestResponseParams params = kRegister;
  params.method = "REGISTER sip:x";
  ExpectError(DigestResponse(SipChallenge("MD5", {"auth"}), kAlice, params),
              absl::StatusCode::kInvalidArgument, "method");
}

TEST(SipDigestTest, PasswordNeverInHeaderOrErrors) {
  const std::string password = "hunter2-S3cret";
  DigestCredentials credentials{"alice", password};
  absl::StatusOr<std::string> header = DigestAuthorizationHeader(
      SipChallenge("MD5", {"auth"}), credentials, kRegister);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header, Not(HasSubstr(password)));
  // A password pasted into the username by mistake is not echoed either.
  credentials.username = password + "\"";
  absl::StatusOr<std::string> refused = DigestAuthorizationHeader(
      SipChallenge("MD5", {"auth"}), credentials, kRegister);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              Not(HasSubstr(password)));
}

// What the prober answers is what the registrar asked: every field carries
// over.
TEST(SipDigestTest, ToDigestChallengeKeepsEveryField) {
  Challenge c;
  c.proxy = true;
  c.scheme = "Digest";
  c.realm = "itsp.test";
  c.nonce = "n0nce";
  c.opaque = "0paque";
  c.algorithm = "SHA-256";
  c.qop = {"auth", "auth-int"};
  const DigestChallenge d = ToDigestChallenge(c);
  EXPECT_TRUE(d.proxy);
  EXPECT_EQ(d.realm, "itsp.test");
  EXPECT_EQ(d.nonce, "n0nce");
  EXPECT_EQ(d.opaque, "0paque");
  EXPECT_EQ(d.algorithm, "SHA-256");
  EXPECT_EQ(d.qop, (std::vector<std::string>{"auth", "auth-int"}));
}

}  // namespace
}  // namespace sipresolver::sip
