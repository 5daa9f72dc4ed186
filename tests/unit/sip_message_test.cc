#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/sip/message.h"
#include "tests/support/expect_error.h"

namespace sipresolver::sip {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using ::sipresolver::testing::ExpectError;

MATCHER_P(IsOkAndHolds, value, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  *result_listener << "value " << *arg;
  return *arg == value;
}

// Test messages are written with "\n"; the wire form has CRLF.
std::string Crlf(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\n", "\r\n"}});
}

// Parses a copy in a heap block of exactly the message's size, so ASan flags
// any read past the end.
absl::StatusOr<Response> ParseExact(absl::string_view message) {
  std::unique_ptr<char[]> copy(new char[message.size() + 1]);
  std::copy(message.begin(), message.end(), copy.get());
  return ParseResponse(absl::string_view(copy.get(), message.size()));
}

RequestParams RegisterParams() {
  RequestParams p;
  p.method = "REGISTER";
  p.domain = "example.com";
  p.transport = "UDP";
  p.local_host = "192.0.2.10";
  p.local_port = 5060;
  p.user = "alice";
  p.call_id = "3848276298220188511@192.0.2.10";
  p.from_tag = "a73kszlfl";
  p.branch = "z9hG4bK1a2b3c4d5e6f7a8b";
  p.cseq = 7;
  p.expires = 3600;
  p.user_agent = "sipresolver/0.1";
  return p;
}

// The header names (before ':') of a built request, in order.
std::vector<std::string> HeaderNames(absl::string_view request) {
  std::vector<std::string> names;
  std::vector<absl::string_view> lines = absl::StrSplit(request, "\r\n");
  for (size_t i = 1; i < lines.size() && !lines[i].empty(); ++i) {
    names.emplace_back(lines[i].substr(0, lines[i].find(':')));
  }
  return names;
}

// A request turned into a response with the same headers, to parse it back.
std::string AsResponse(absl::string_view request) {
  return absl::StrCat("SIP/2.0 200 OK", request.substr(request.find("\r\n")));
}

constexpr char k200Register[] =
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;rport=61002;branch=z9hG4bK1a2b;"
    "received=198.51.100.7\n"
    "From: <sip:alice@example.com>;tag=a73kszlfl\n"
    "To: <sip:alice@example.com>;tag=37GkEhwl6\n"
    "Call-ID: 3848276298220188511@192.0.2.10\n"
    "CSeq: 7 REGISTER\n"
    "Contact: <sip:alice@198.51.100.7:61002>;expires=3600, "
    "<sip:alice@203.0.113.9:5060;transport=tcp>;q=0.5\n"
    "Expires: 3600\n"
    "Server: kamailio (5.6.3 (x86_64/linux))\n"
    "Content-Length: 0\n"
    "\n";

// ------------------------------------------------------------- building

TEST(SipMessageTest, BuiltRegisterHasEveryHeaderOnceWithCrlf) {
  auto request = BuildRequest(RegisterParams());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->substr(0, request->find("\r\n")),
            "REGISTER sip:example.com SIP/2.0");
  EXPECT_THAT(
      HeaderNames(*request),
      ElementsAre("Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq",
                  "Contact", "Expires", "User-Agent", "Content-Length"));
  EXPECT_THAT(*request, HasSubstr("\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;rport;"
                                  "branch=z9hG4bK1a2b3c4d5e6f7a8b\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nFrom: <sip:alice@example.com>;"
                                  "tag=a73kszlfl\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nTo: <sip:alice@example.com>\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nCSeq: 7 REGISTER\r\n"));
  EXPECT_THAT(*request,
              HasSubstr("\r\nContact: <sip:alice@192.0.2.10:5060>\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nExpires: 3600\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nMax-Forwards: 70\r\n"));
  // Every LF is part of a CRLF, and the headers end with an empty line.
  EXPECT_EQ(std::count(request->begin(), request->end(), '\n'),
            std::count(request->begin(), request->end(), '\r'));
  EXPECT_EQ(absl::StrReplaceAll(*request, {{"\r\n", ""}}).find_first_of("\r\n"),
            std::string::npos);
  EXPECT_TRUE(absl::EndsWith(*request, "Content-Length: 0\r\n\r\n"));
}

TEST(SipMessageTest, BuiltOptionsHasNoExpiresAndParsesBack) {
  RequestParams p = RegisterParams();
  p.method = "OPTIONS";
  p.user = "";
  auto request = BuildRequest(p);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(HeaderNames(*request),
              ElementsAre("Via", "Max-Forwards", "From", "To", "Call-ID",
                          "CSeq", "Contact", "User-Agent", "Content-Length"));
  EXPECT_THAT(*request, HasSubstr("\r\nTo: <sip:example.com>\r\n"));
  EXPECT_THAT(*request, HasSubstr("\r\nContact: <sip:192.0.2.10:5060>\r\n"));
  auto parsed = ParseExact(AsResponse(*request));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->cseq_method, "OPTIONS");
  EXPECT_FALSE(parsed->expires.has_value());
}

TEST(SipMessageTest, BuiltRegisterParsesBack) {
  auto request = BuildRequest(RegisterParams());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(FramedMessageLength(*request), IsOkAndHolds(request->size()));
  auto parsed = ParseExact(AsResponse(*request));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->vias.size(), 1u);
  EXPECT_EQ(parsed->vias[0].transport, "UDP");
  EXPECT_EQ(parsed->vias[0].host, "192.0.2.10");
  EXPECT_EQ(parsed->vias[0].port, 5060);
  EXPECT_EQ(parsed->vias[0].branch, "z9hG4bK1a2b3c4d5e6f7a8b");
  EXPECT_TRUE(parsed->vias[0].rport_present);
  EXPECT_FALSE(parsed->vias[0].rport.has_value());
  EXPECT_EQ(parsed->call_id, "3848276298220188511@192.0.2.10");
  EXPECT_EQ(parsed->cseq, 7u);
  EXPECT_EQ(parsed->cseq_method, "REGISTER");
  EXPECT_EQ(parsed->from_tag, "a73kszlfl");
  EXPECT_EQ(parsed->to_tag, "");
  EXPECT_EQ(parsed->expires, 3600);
  EXPECT_THAT(parsed->contact_expires,
              ElementsAre(Pair("sip:alice@192.0.2.10:5060", -1)));
  EXPECT_EQ(parsed->content_length, 0u);
}

TEST(SipMessageTest, BuiltTcpAndTlsRequestsCarryTransportParam) {
  RequestParams p = RegisterParams();
  p.transport = "tls";
  auto request = BuildRequest(p);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, HasSubstr("REGISTER sip:example.com;transport=tls "
                                  "SIP/2.0\r\nVia: SIP/2.0/TLS "));
  EXPECT_THAT(*request, HasSubstr("Contact: <sip:alice@192.0.2.10:5060;"
                                  "transport=tls>\r\n"));
  EXPECT_EQ(RequestUri(p), "sip:example.com;transport=tls");
  p.transport = "TCP";
  request = BuildRequest(p);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, HasSubstr("Via: SIP/2.0/TCP "));
  EXPECT_THAT(*request, HasSubstr(";transport=tcp>\r\n"));
  p.transport = "UDP";
  EXPECT_EQ(RequestUri(p), "sip:example.com");
}

TEST(SipMessageTest, BuiltRequestBracketsIpv6LocalHost) {
  RequestParams p = RegisterParams();
  p.local_host = "2001:db8::10";
  auto request = BuildRequest(p);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, HasSubstr("Via: SIP/2.0/UDP [2001:db8::10]:5060;"));
  EXPECT_THAT(*request, HasSubstr("<sip:alice@[2001:db8::10]:5060>"));
  p.local_host = "[2001:db8::10]";
  EXPECT_EQ(BuildRequest(p).value(), *request);
  auto parsed = ParseExact(AsResponse(*request));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->vias[0].host, "2001:db8::10");
}

TEST(SipMessageTest, BuiltRequestCarriesAuthorizationLine) {
  RequestParams p = RegisterParams();
  p.cseq = 8;
  p.authorization =
      "Authorization: Digest username=\"alice\", realm=\"example.com\", "
      "nonce=\"abc\", uri=\"sip:example.com\", response=\"0123\"";
  auto request = BuildRequest(p);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, HasSubstr("\r\n" + p.authorization + "\r\n"));
  EXPECT_THAT(HeaderNames(*request), ::testing::Contains("Authorization"));

  p.authorization = "Digest username=\"alice\"";  // Not a whole line.
  ExpectError(BuildRequest(p), absl::StatusCode::kInvalidArgument,
              "authorization");
}

TEST(SipMessageTest, BuildRefusesCrLfInjectionInEveryField) {
  const std::vector<std::pair<std::string, std::string RequestParams::*>>
      fields = {{"domain", &RequestParams::domain},
                {"local_host", &RequestParams::local_host},
                {"user", &RequestParams::user},
                {"call_id", &RequestParams::call_id},
                {"from_tag", &RequestParams::from_tag},
                {"branch", &RequestParams::branch},
                {"user_agent", &RequestParams::user_agent},
                {"authorization", &RequestParams::authorization}};
  for (const auto& [name, member] : fields) {
    for (const char* evil : {"\r\nVia: SIP/2.0/UDP evil", "\nX: y", "a\rb"}) {
      RequestParams p = RegisterParams();
      p.authorization = "Authorization: Digest x=y";
      p.*member += evil;
      SCOPED_TRACE(name);
      ExpectError(BuildRequest(p), absl::StatusCode::kInvalidArgument,
                  name + " contains a control character");
    }
  }
}

TEST(SipMessageTest, BuildRefusesUnsupportedOrMissingParams) {
  auto with = [](auto change) {
    RequestParams p = RegisterParams();
    change(p);
    return BuildRequest(p);
  };
  using R = RequestParams&;
  ExpectError(with([](R p) { p.method = "INVITE"; }),
              absl::StatusCode::kInvalidArgument, "method");
  ExpectError(with([](R p) { p.transport = "SCTP"; }),
              absl::StatusCode::kInvalidArgument, "transport");
  ExpectError(with([](R p) { p.local_port = 0; }),
              absl::StatusCode::kInvalidArgument, "local_port");
  ExpectError(with([](R p) { p.expires = -1; }),
              absl::StatusCode::kInvalidArgument, "expires");
  ExpectError(with([](R p) { p.user = ""; }),
              absl::StatusCode::kInvalidArgument, "user is required");
  ExpectError(with([](R p) { p.call_id = ""; }),
              absl::StatusCode::kInvalidArgument, "call_id is required");
  ExpectError(with([](R p) { p.branch = "1234"; }),
              absl::StatusCode::kInvalidArgument, "z9hG4bK");
  ExpectError(with([](R p) { p.user = "al ice"; }),
              absl::StatusCode::kInvalidArgument, "user contains ' '");
  ExpectError(with([](R p) { p.domain = "example.com>"; }),
              absl::StatusCode::kInvalidArgument, "domain contains '>'");
}

// -------------------------------------------------------------- parsing

TEST(SipMessageTest, Parses200OkToRegister) {
  auto r = ParseExact(Crlf(k200Register));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 200);
  EXPECT_EQ(r->reason, "OK");
  EXPECT_EQ(r->call_id, "3848276298220188511@192.0.2.10");
  EXPECT_EQ(r->cseq, 7u);
  EXPECT_EQ(r->cseq_method, "REGISTER");
  EXPECT_EQ(r->from_tag, "a73kszlfl");
  EXPECT_EQ(r->to_tag, "37GkEhwl6");
  EXPECT_EQ(r->expires, 3600);
  EXPECT_THAT(
      r->contact_expires,
      ElementsAre(Pair("sip:alice@198.51.100.7:61002", 3600),
                  Pair("sip:alice@203.0.113.9:5060;transport=tcp", -1)));
  EXPECT_EQ(r->content_length, 0u);
  EXPECT_TRUE(r->challenges.empty());
}

TEST(SipMessageTest, Parses401DigestChallenge) {
  auto r = ParseExact(
      Crlf("SIP/2.0 401 Unauthorized\n"
           "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\n"
           "From: <sip:alice@example.com>;tag=1\n"
           "To: <sip:alice@example.com>;tag=2\n"
           "Call-ID: c1\n"
           "CSeq: 1 REGISTER\n"
           "WWW-Authenticate: Digest realm=\"ex\\\"am\\\\ple.com\", "
           "nonce=\"Yz0rA2Kx+F0=\",  qop=\"auth,auth-int\", algorithm=SHA-256,"
           "stale=TRUE, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\n"
           "Content-Length: 0\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 401);
  EXPECT_EQ(r->reason, "Unauthorized");
  ASSERT_EQ(r->challenges.size(), 1u);
  const Challenge& c = r->challenges[0];
  EXPECT_FALSE(c.proxy);
  EXPECT_EQ(c.scheme, "Digest");
  EXPECT_EQ(c.realm, "ex\"am\\ple.com");
  EXPECT_EQ(c.nonce, "Yz0rA2Kx+F0=");
  EXPECT_THAT(c.qop, ElementsAre("auth", "auth-int"));
  EXPECT_EQ(c.algorithm, "SHA-256");
  EXPECT_TRUE(c.stale);
  EXPECT_EQ(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
}

TEST(SipMessageTest, Parses407ProxyChallenge) {
  auto r =
      ParseExact(Crlf("SIP/2.0 407 Proxy Authentication Required\n"
                      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\n"
                      "Call-ID: c1\n"
                      "CSeq: 2 OPTIONS\n"
                      "Proxy-Authenticate: Digest realm=\"proxy.example.com\", "
                      "nonce=\"n1\", qop=auth, stale=false\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->challenges.size(), 1u);
  EXPECT_TRUE(r->challenges[0].proxy);
  EXPECT_EQ(r->challenges[0].realm, "proxy.example.com");
  EXPECT_THAT(r->challenges[0].qop, ElementsAre("auth"));
  EXPECT_FALSE(r->challenges[0].stale);
  EXPECT_EQ(r->challenges[0].algorithm, "");  // Absent: MD5 (RFC 2617).
}

TEST(SipMessageTest, ParsesMultipleChallenges) {
  // RFC 8760: one header per algorithm; RFC 7235: several in one header.
  auto r = ParseExact(Crlf(
      "SIP/2.0 401 Unauthorized\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "Call-ID: c1\n"
      "CSeq: 1 REGISTER\n"
      "WWW-Authenticate: Digest realm=\"a\", nonce=\"1\", algorithm=SHA-256\n"
      "WWW-Authenticate: Digest realm=\"a\", nonce=\"2\", algorithm=MD5, "
      "Digest realm=\"b\", nonce=\"3\"\n"
      "Proxy-Authenticate: Digest realm=\"p\", nonce=\"4\"\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->challenges.size(), 4u);
  EXPECT_EQ(r->challenges[0].nonce, "1");
  EXPECT_EQ(r->challenges[1].algorithm, "MD5");
  EXPECT_EQ(r->challenges[2].realm, "b");
  EXPECT_EQ(r->challenges[2].nonce, "3");
  EXPECT_FALSE(r->challenges[2].proxy);
  EXPECT_TRUE(r->challenges[3].proxy);
}

TEST(SipMessageTest, ParsesCompactHeaderNamesInAnyCase) {
  auto r =
      ParseExact(Crlf("SIP/2.0 200 OK\n"
                      "v: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK1\n"
                      "F: \"Alice\" <sip:alice@example.com>;tag=f1\n"
                      "t: sip:alice@example.com;tag=t1\n"
                      "I: c1@h\n"
                      "cseq: 3 OPTIONS\n"
                      "m: <sip:alice@192.0.2.10>;EXPIRES=60\n"
                      "k: path, outbound\n"
                      "s: ignored\n"
                      "L: 4\n\nbody"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->vias[0].transport, "TCP");
  EXPECT_EQ(r->from_tag, "f1");
  EXPECT_EQ(r->to_tag, "t1");
  EXPECT_EQ(r->call_id, "c1@h");
  EXPECT_EQ(r->cseq, 3u);
  EXPECT_THAT(r->contact_expires,
              ElementsAre(Pair("sip:alice@192.0.2.10", 60)));
  EXPECT_EQ(r->content_length, 4u);
}

TEST(SipMessageTest, ParsesFoldedLinesAndExtraWhitespace) {
  auto r = ParseExact(Crlf(
      "SIP/2.0   486   Busy   Here  \n"
      "Via  :  SIP / 2.0 / UDP   192.0.2.10 : 5060 ;  branch = z9hG4bK1  ,\n"
      "\t SIP/2.0/UDP 192.0.2.20\n"
      "Call-ID:\n"
      "   c1\n"
      "CSeq:   9    REGISTER   \n"
      "WWW-Authenticate: Digest realm=\"a\",\n"
      " nonce=\"n\"\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 486);
  EXPECT_EQ(r->reason, "Busy   Here");
  ASSERT_EQ(r->vias.size(), 2u);
  EXPECT_EQ(r->vias[0].host, "192.0.2.10");
  EXPECT_EQ(r->vias[0].port, 5060);
  EXPECT_EQ(r->vias[0].branch, "z9hG4bK1");
  EXPECT_EQ(r->vias[1].host, "192.0.2.20");
  EXPECT_FALSE(r->vias[1].port.has_value());
  EXPECT_EQ(r->call_id, "c1");
  EXPECT_EQ(r->cseq, 9u);
  EXPECT_EQ(r->challenges.at(0).nonce, "n");
}

TEST(SipMessageTest, ParsesMultipleAndCommaJoinedVias) {
  auto r = ParseExact(Crlf(
      "SIP/2.0 100 Trying\n"
      "Via: SIP/2.0/UDP a.example;branch=z9hG4bKa, SIP/2.0/TCP b.example:5070"
      ";branch=z9hG4bKb\n"
      "Call-ID: c1\n"
      "v: SIP/2.0/TLS c.example;branch=z9hG4bKc\n"
      "CSeq: 1 REGISTER\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->vias.size(), 3u);
  EXPECT_EQ(r->vias[0].host, "a.example");
  EXPECT_EQ(r->vias[1].transport, "TCP");
  EXPECT_EQ(r->vias[1].port, 5070);
  EXPECT_EQ(r->vias[2].branch, "z9hG4bKc");
  EXPECT_EQ(r->to_tag, "");  // No To at all.
}

TEST(SipMessageTest, ParsesViaReceivedAndRport) {
  auto r = ParseExact(Crlf(k200Register));
  ASSERT_TRUE(r.ok()) << r.status();
  const Via& via = r->vias.at(0);
  EXPECT_EQ(via.received, "198.51.100.7");
  EXPECT_TRUE(via.rport_present);
  EXPECT_EQ(via.rport, 61002);
  EXPECT_EQ(via.branch, "z9hG4bK1a2b");
}

TEST(SipMessageTest, ParsesRportWithoutValue) {
  std::vector<Via> vias;
  ASSERT_TRUE(
      ParseViaValue("SIP/2.0/UDP h:5060;rport;branch=z9hG4bK1", &vias).ok());
  ASSERT_TRUE(ParseViaValue("SIP/2.0/UDP h:5060;branch=z9hG4bK2", &vias).ok());
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_TRUE(vias[0].rport_present);
  EXPECT_FALSE(vias[0].rport.has_value());
  EXPECT_FALSE(vias[0].received.has_value());
  EXPECT_FALSE(vias[1].rport_present);
}

TEST(SipMessageTest, ParsesIpv6ViaHostAndReceived) {
  std::vector<Via> vias;
  ASSERT_TRUE(ParseViaValue("SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bK1;"
                            "received=2001:db8::99;rport=40000, "
                            "SIP/2.0/UDP [::1];received=[::2]",
                            &vias)
                  .ok());
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(vias[0].host, "2001:db8::10");
  EXPECT_EQ(vias[0].port, 5060);
  EXPECT_EQ(vias[0].received, "2001:db8::99");
  EXPECT_EQ(vias[0].rport, 40000);
  EXPECT_EQ(vias[1].host, "::1");
  EXPECT_EQ(vias[1].received, "::2");
}

TEST(SipMessageTest, ParsesLfOnlyLineEndingsAndLeadingCrlf) {
  auto r = ParseExact(absl::StrCat("\r\n\r\n", k200Register));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->to_tag, "37GkEhwl6");
}

TEST(SipMessageTest, ParsesUnusualButValidForms) {
  auto r = ParseExact(Crlf(
      "SIP/2.0 200\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1;maddr=239.1.1.1;ttl=1\n"
      "From: Alice Smith <sip:alice@example.com;transport=tcp>;tag=f;x=y\n"
      "To: sip:alice@example.com\n"
      "Call-ID: c\nCSeq: 1 REGISTER\n"
      "Contact: *\n"
      "Contact: \"Bob, \\\"B\\\" <x>\" <sip:bob@h>;methods=\"INVITE, BYE\";"
      "expires=0\n"
      "Subject:\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reason, "");
  EXPECT_EQ(r->from_tag, "f");
  EXPECT_EQ(r->to_tag, "");
  EXPECT_THAT(r->contact_expires,
              ElementsAre(Pair("*", -1), Pair("sip:bob@h", 0)));
  auto utf8 =
      ParseExact(Crlf("SIP/2.0 480 Vor\xc3\xbc"
                      "bergehend nicht verf\xc3\xbc"
                      "gbar\n"
                      "Via: SIP/2.0/UDP h\nCall-ID: c\nCSeq: 1 REGISTER\n\n"));
  ASSERT_TRUE(utf8.ok()) << utf8.status();
  EXPECT_EQ(utf8->reason,
            "Vor\xc3\xbc"
            "bergehend nicht verf\xc3\xbc"
            "gbar");
}

TEST(SipMessageTest, ParsesMinExpiresAndRetryAfter) {
  auto r = ParseExact(
      Crlf("SIP/2.0 423 Interval Too Brief\n"
           "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nCall-ID: c\nCSeq: 1 REGISTER\n"
           "Min-Expires: 600\nRetry-After: 120 (maintenance);duration=60\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->min_expires, 600);
  EXPECT_EQ(r->retry_after, 120);
}

TEST(SipMessageTest, MissingMandatoryHeadersAreNamed) {
  const std::string via = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n";
  const std::string call_id = "Call-ID: c\n";
  const std::string cseq = "CSeq: 1 REGISTER\n";
  ExpectError(ParseExact(Crlf("SIP/2.0 200 OK\n" + call_id + cseq + "\n")),
              absl::StatusCode::kInvalidArgument, "missing Via header");
  ExpectError(ParseExact(Crlf("SIP/2.0 200 OK\n" + via + cseq + "\n")),
              absl::StatusCode::kInvalidArgument, "missing Call-ID header");
  ExpectError(ParseExact(Crlf("SIP/2.0 200 OK\n" + via + call_id + "\n")),
              absl::StatusCode::kInvalidArgument, "missing CSeq header");
}

TEST(SipMessageTest, RequestsAreRejected) {
  auto request = BuildRequest(RegisterParams());
  ASSERT_TRUE(request.ok());
  ExpectError(ParseExact(*request), absl::StatusCode::kInvalidArgument,
              "message is a request (REGISTER), not a response");
}

TEST(SipMessageTest, BadStatusLinesAreRejected) {
  const std::string rest = "Via: SIP/2.0/UDP h\nCall-ID: c\nCSeq: 1 X\n\n";
  for (const char* line :
       {"SIP/2.0 099 Low", "SIP/2.0 700 High", "SIP/2.0 20 OK",
        "SIP/2.0 2000 OK", "SIP/2.0 abc OK", "SIP/2.0"}) {
    SCOPED_TRACE(line);
    ExpectError(ParseExact(Crlf(absl::StrCat(line, "\n", rest))),
                absl::StatusCode::kInvalidArgument, "status code");
  }
  ExpectError(ParseExact(Crlf("SIP/3.0 200 OK\n" + rest)),
              absl::StatusCode::kInvalidArgument, "unsupported SIP version");
  ExpectError(ParseExact(Crlf("HTTP/1.1 200 OK\n" + rest)),
              absl::StatusCode::kInvalidArgument, "bad status line");
}

TEST(SipMessageTest, NumbersOutOfRangeAreRejected) {
  const std::string head = "SIP/2.0 200 OK\nCall-ID: c\n";
  const std::string via = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n";
  const std::string cseq = "CSeq: 1 REGISTER\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {via + "CSeq: 4294967296 REGISTER\n", "CSeq number"},
      {"Via: SIP/2.0/UDP h:70000\n" + cseq, "Via value 1 port"},
      {"Via: SIP/2.0/UDP h:0\n" + cseq, "Via value 1 port"},
      {"Via: SIP/2.0/UDP h;rport=65536\n" + cseq, "rport"},
      {via + cseq + "Expires: 2147483648\n", "Expires"},
      {via + cseq + "Expires: -1\n", "Expires"},
      {via + cseq + "Contact: <sip:a@b>;expires=99999999999\n",
       "Contact expires"},
      {via + cseq + "Content-Length: 99999999999999999999\n", "Content-Length"},
  };
  for (const auto& [headers, what] : cases) {
    SCOPED_TRACE(headers);
    ExpectError(ParseExact(Crlf(head + headers + "\n")),
                absl::StatusCode::kInvalidArgument, what);
  }
}

TEST(SipMessageTest, MalformedOrDuplicateHeadersAreRejected) {
  const std::string base = "SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\nCSeq: 1 R\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Call-ID: a\nCall-ID: b\n", "duplicate Call-ID header"},
      {"Call-ID: a\ni: a\n", "duplicate i header"},
      {"Call-ID: a b\n", "Call-ID"},
      {"Call-ID: a\nno colon here\n", "line 5 is not a header"},
      {"Call-ID: a\n continued\n", ""},  // Folded: fine, but "a continued".
      {"Call-ID: a\nFrom: <sip:x\n", "From: '<' without '>'"},
      {"Call-ID: a\nTo: <sip:x>;tag=1;tag=2\n", "parameter tag appears twice"},
      {"Call-ID: a\nVia: HTTP/1.1 h\n", "sent-protocol"},
      {"Call-ID: a\nVia: SIP/2.0/UDP [::1\n", "bad IPv6 reference"},
      {"Call-ID: a\nWWW-Authenticate: Digest realm=\"x\n", "WWW-Authenticate"},
      {"Call-ID: a\nWWW-Authenticate: Digest realm=a, realm=b\n",
       "realm appears twice"},
      {"Call-ID: a\nWWW-Authenticate:\n", "no auth scheme"},
      {"Call-ID: a\nX-Bad: a\x01b\n", "control character"},
  };
  for (const auto& [headers, what] : cases) {
    SCOPED_TRACE(headers);
    auto r = ParseExact(Crlf(base + headers + "\n"));
    if (what.empty()) {
      EXPECT_FALSE(r.ok());  // "a continued" is not one word.
    } else {
      ExpectError(r, absl::StatusCode::kInvalidArgument, what);
    }
  }
}

TEST(SipMessageTest, LimitsAreEnforced) {
  const std::string base =
      "SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\nCall-ID: c\nCSeq: 1 R\n";
  std::string many = base;
  for (int i = 0; i < kMaxHeaderFields; ++i) many += "X-Pad: 1\n";
  ExpectError(ParseExact(Crlf(many + "\n")), absl::StatusCode::kInvalidArgument,
              "more than 256 header fields");

  std::string big = base + "X-Pad: " + std::string(kMaxMessageSize, 'a');
  ExpectError(ParseExact(Crlf(big + "\n\n")),
              absl::StatusCode::kInvalidArgument, "65536-byte limit");

  std::string params = base + "Contact: <sip:a@b>";
  for (int i = 0; i <= kMaxListValues; ++i) params += ";p";
  ExpectError(ParseExact(Crlf(params + "\n\n")),
              absl::StatusCode::kInvalidArgument,
              "Contact: too many parameters");

  std::string vias = base + "Via: SIP/2.0/UDP h";
  for (int i = 0; i < kMaxListValues; ++i) vias += ", SIP/2.0/UDP h";
  ExpectError(ParseExact(Crlf(vias + "\n\n")),
              absl::StatusCode::kInvalidArgument, "more than 64 values");
}

TEST(SipMessageTest, TruncatedMessagesAreDataLoss) {
  const std::string message = Crlf(k200Register);
  ExpectError(ParseExact(message.substr(0, message.size() - 2)),
              absl::StatusCode::kDataLoss, "does not end with an empty line");
  std::string with_body = absl::StrReplaceAll(
      message, {{"Content-Length: 0", "Content-Length: 10"}});
  ExpectError(ParseExact(with_body + "12345"), absl::StatusCode::kDataLoss,
              "body is 5 bytes, shorter than Content-Length 10");
  EXPECT_TRUE(ParseExact(with_body + "0123456789extra").ok());
}

TEST(SipMessageTest, EveryPrefixOfValidMessagesIsSafe) {
  for (const std::string& message :
       {Crlf(k200Register), std::string(k200Register),
        AsResponse(BuildRequest(RegisterParams()).value())}) {
    for (size_t len = 0; len < message.size(); ++len) {
      const absl::string_view prefix(message.data(), len);
      auto r = ParseExact(prefix);
      EXPECT_FALSE(r.ok() && r->vias.empty());
      auto framed = FramedMessageLength(prefix);
      ASSERT_TRUE(framed.ok()) << len << ": " << framed.status();
      EXPECT_EQ(*framed, 0u) << len;  // Incomplete until the final byte.
    }
    EXPECT_THAT(FramedMessageLength(message), IsOkAndHolds(message.size()));
  }
}

// ------------------------------------------------------------- framing

TEST(SipMessageTest, FramedLengthWithoutBody) {
  const std::string message = Crlf(k200Register);
  EXPECT_THAT(FramedMessageLength(message), IsOkAndHolds(message.size()));
  // A second message behind the first does not change the first's length.
  EXPECT_THAT(FramedMessageLength(message + message),
              IsOkAndHolds(message.size()));
}

TEST(SipMessageTest, FramedLengthWithBodyAndCompactHeader) {
  const std::string head =
      Crlf("SIP/2.0 200 OK\nVia: SIP/2.0/TCP h\nl:\n  5\nCall-ID: c\n\n");
  EXPECT_THAT(FramedMessageLength(head + "hello"),
              IsOkAndHolds(head.size() + 5));
  EXPECT_THAT(FramedMessageLength(head + "hel"), IsOkAndHolds(0u));
  EXPECT_THAT(FramedMessageLength(head + "helloSIP/2.0"),
              IsOkAndHolds(head.size() + 5));
}

TEST(SipMessageTest, FramedLengthIncompleteAndKeepAlives) {
  EXPECT_THAT(FramedMessageLength(""), IsOkAndHolds(0u));
  EXPECT_THAT(FramedMessageLength("\r\n\r\n"), IsOkAndHolds(0u));
  EXPECT_THAT(FramedMessageLength("SIP/2.0 200 OK\r\nVia: x\r\n"),
              IsOkAndHolds(0u));
  // Keep-alive CRLFs before a message count towards its length (7.5).
  const std::string message = "\r\n\r\n" + Crlf(k200Register);
  EXPECT_THAT(FramedMessageLength(message), IsOkAndHolds(message.size()));
  EXPECT_TRUE(ParseExact(message).ok());
  // Requests frame too, so a stream reader can skip them.
  const std::string request = BuildRequest(RegisterParams()).value();
  EXPECT_THAT(FramedMessageLength(request), IsOkAndHolds(request.size()));
}

TEST(SipMessageTest, FramedLengthRejectsOversizeAndBadContentLength) {
  ExpectError(FramedMessageLength(std::string(kMaxMessageSize + 1, 'a')),
              absl::StatusCode::kInvalidArgument, "65536-byte limit");
  ExpectError(FramedMessageLength(std::string(kMaxMessageSize + 1, '\n')),
              absl::StatusCode::kInvalidArgument, "65536-byte limit");
  const std::string head = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h\r\n";
  ExpectError(FramedMessageLength(head + "Content-Length: 65500\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "65536-byte limit");
  ExpectError(FramedMessageLength(head + "Content-Length: 70000\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "exceeds");
  ExpectError(FramedMessageLength(head + "Content-Length: 1x\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "not a number");
  ExpectError(FramedMessageLength(head + "l: 1\r\nContent-Length: 2\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "different values");
  ExpectError(FramedMessageLength(head + "bad line\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "not a header");
}

// --------------------------------------------------------- robustness

// The seed responses of tests/fuzz/corpus/sip_response/, read from the
// source tree, all parse.
TEST(SipMessageTest, FuzzCorpusSeedsParse) {
  const std::string dir =
      absl::StrCat(absl::string_view(__FILE__).substr(
                       0, absl::string_view(__FILE__).rfind("/unit/")),
                   "/fuzz/corpus/sip_response/");
  int parsed = 0;
  for (const char* name : {"100_trying", "200_register", "200_options_compact",
                           "401_www_authenticate", "407_proxy_authenticate",
                           "423_min_expires", "503_retry_after_ipv6"}) {
    std::ifstream file(dir + name, std::ios::binary);
    ASSERT_TRUE(file.good()) << dir << name;
    std::stringstream content;
    content << file.rdbuf();
    auto r = ParseExact(content.str());
    EXPECT_TRUE(r.ok()) << name << ": " << r.status();
    EXPECT_THAT(FramedMessageLength(content.str()),
                IsOkAndHolds(content.str().size()))
        << name;
    ++parsed;
  }
  EXPECT_EQ(parsed, 7);
}

// A mini fuzzer with a fixed seed: mutated valid responses must never crash
// (run under ASan/UBSan), and whatever parses holds the invariants.
TEST(SipMessageTest, MutatedResponsesNeverCrash) {
  const std::vector<std::string> seeds = {
      Crlf(k200Register),
      AsResponse(BuildRequest(RegisterParams()).value()),
      Crlf("SIP/2.0 401 Unauthorized\nv: SIP/2.0/UDP [::1]:5060;rport;"
           "received=::2\ni: c\nCSeq: 1 REGISTER\nf: \"A \\\" <\" <sip:a@b>"
           ";tag=1\nWWW-Authenticate: Digest realm=\"r\\\"\", nonce=\"n\", "
           "qop=\"auth,auth-int\", stale=TRUE, Digest realm=x\n"
           "Proxy-Authenticate: Digest realm=p\nl: 3\n\nabc"),
  };
  static constexpr char kSpecials[] = ",;:\"\\<>[]= \t\r\n@/0123456789\x00\xff";
  const std::string specials(kSpecials, sizeof(kSpecials) - 1);
  std::mt19937 rng(20240611);
  auto pick = [&rng](size_t n) {
    return n == 0 ? size_t{0}
                  : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  int parsed_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string m = seeds[pick(seeds.size())];
    const int mutations = 1 + static_cast<int>(pick(4));
    for (int k = 0; k < mutations && !m.empty(); ++k) {
      const size_t at = pick(m.size());
      switch (pick(6)) {
        case 0:  // Replace a byte with a special character.
          m[at] = specials[pick(specials.size())];
          break;
        case 1:  // Insert one.
          m.insert(m.begin() + at, specials[pick(specials.size())]);
          break;
        case 2:  // Erase a range.
          m.erase(at, 1 + pick(16));
          break;
        case 3:  // Duplicate a range.
          m.insert(at, m.substr(pick(m.size()), 1 + pick(64)));
          break;
        case 4:  // Truncate.
          m.resize(at);
          break;
        case 5:  // Flip a bit.
          m[at] = static_cast<char>(m[at] ^ (1 << pick(8)));
          break;
      }
    }
    auto r = ParseExact(m);
    if (r.ok()) {
      ++parsed_ok;
      ASSERT_GE(r->status_code, 100);
      ASSERT_LE(r->status_code, 699);
      ASSERT_FALSE(r->vias.empty());
      ASSERT_FALSE(r->call_id.empty());
    }
    auto framed = FramedMessageLength(m);
    if (framed.ok()) {
      ASSERT_LE(*framed, m.size());
    }
  }
  // The mutations leave some messages valid, so deep paths were reached.
  EXPECT_GT(parsed_ok, 100);
}

}  // namespace
}  // namespace sipresolver::sip
