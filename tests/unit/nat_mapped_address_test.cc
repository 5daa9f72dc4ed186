// N1: the mapped address from the top Via of a REGISTER response
// (received=/rport=, RFC 3581), strict about what it passes on.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/nat/mapped_address.h"
#include "tests/support/expect_error.h"

namespace sipresolver::nat {
namespace {

using ::sipresolver::testing::ExpectError;

sip::Via BehindNat() {
  sip::Via via;
  via.transport = "UDP";
  via.host = "10.0.0.2";
  via.port = 5060;
  via.branch = "z9hG4bK1";
  via.received = "192.0.2.1";
  via.rport = 40000;
  via.rport_present = true;
  return via;
}

// A Kamailio-style answer: the request had ";rport", the reply carries
// received= and rport= (see kamailio_server.h).
std::string Response(absl::string_view via_params) {
  return absl::StrReplaceAll(
      absl::StrCat("SIP/2.0 401 Unauthorized\n"
                   "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1",
                   via_params,
                   "\nVia: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK0;"
                   "received=203.0.113.9;rport=1111\n"
                   "From: <sip:alice@example.com>;tag=1\n"
                   "To: <sip:alice@example.com>;tag=2\n"
                   "Call-ID: c1\nCSeq: 1 REGISTER\nContent-Length: 0\n\n"),
      {{"\n", "\r\n"}});
}

TEST(MappedAddressTest, N1ReceivedAndRportGiveTheMapping) {
  auto m = MappedAddressFromVia(BehindNat());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "192.0.2.1");
  EXPECT_EQ(m->port, 40000);
  EXPECT_EQ(m->method, MappedAddress::Method::kVia);
  EXPECT_EQ(HostPort(*m), "192.0.2.1:40000");
  EXPECT_EQ(MethodName(m->method), "via");
}

TEST(MappedAddressTest, N1Ipv6ReceivedIsCanonicalised) {
  sip::Via via = BehindNat();
  via.received = "2001:DB8:0:0:0:0:0:1";
  auto m = MappedAddressFromVia(via);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "2001:db8::1");
  EXPECT_EQ(HostPort(*m), "[2001:db8::1]:40000");
}

TEST(MappedAddressTest, N1FromAWholeResponseUsesTheTopVia) {
  auto m =
      MappedAddressFromResponse(Response(";received=198.51.100.7;rport=61000"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(
      *m, (MappedAddress{"198.51.100.7", 61000, MappedAddress::Method::kVia}));
}

TEST(MappedAddressTest, N1BracketedIpv6ReceivedInAResponse) {
  auto m = MappedAddressFromResponse(
      Response(";received=[2001:db8::7];rport=61000"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "2001:db8::7");
}

TEST(MappedAddressTest, N1NoParametersIsNotFound) {
  sip::Via via = BehindNat();
  via.received.reset();
  via.rport.reset();
  via.rport_present = false;
  ExpectError(MappedAddressFromVia(via), absl::StatusCode::kNotFound,
              "neither received= nor rport=");
  // Lower Vias do not count: they are other hops' mappings.
  ExpectError(MappedAddressFromResponse(Response("")),
              absl::StatusCode::kNotFound, "neither");
}

TEST(MappedAddressTest, N1RportEchoedWithoutValueIsNotFound) {
  sip::Via via = BehindNat();
  via.rport.reset();  // ";rport": a server without RFC 3581.
  ExpectError(MappedAddressFromVia(via), absl::StatusCode::kNotFound,
              "rport has no value");
  ExpectError(MappedAddressFromResponse(Response(";rport;received=192.0.2.1")),
              absl::StatusCode::kNotFound, "rport has no value");
}

TEST(MappedAddressTest, N1ReceivedWithoutRportIsNotFound) {
  // The sent-by port is the private one: never advertise it.
  sip::Via via = BehindNat();
  via.rport.reset();
  via.rport_present = false;
  ExpectError(MappedAddressFromVia(via), absl::StatusCode::kNotFound,
              "no rport=");
}

TEST(MappedAddressTest, N1RportWithoutReceivedUsesAnIpSentBy) {
  sip::Via via = BehindNat();
  via.received.reset();
  via.host = "203.0.113.5";  // Not behind NAT: the server saw this address.
  auto m = MappedAddressFromVia(via);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m,
            (MappedAddress{"203.0.113.5", 40000, MappedAddress::Method::kVia}));
  via.host = "2001:db8::0:5";
  m = MappedAddressFromVia(via);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->address, "2001:db8::5");
}

TEST(MappedAddressTest, N1RportWithoutReceivedAndANameSentByIsNotFound) {
  sip::Via via = BehindNat();
  via.received.reset();
  via.host = "phone.example.com";
  ExpectError(MappedAddressFromVia(via), absl::StatusCode::kNotFound,
              "\"phone.example.com\" is not an IP address");
}

TEST(MappedAddressTest, N1ReceivedThatIsNotAnIpIsInvalid) {
  for (const char* bad :
       {"example.com", "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4 ",
        "fe80::1%eth0", "[::1]", "::1::2", "1.2.3.4\r\nVia: x", ""}) {
    sip::Via via = BehindNat();
    via.received = bad;
    ExpectError(MappedAddressFromVia(via), absl::StatusCode::kInvalidArgument,
                "is not an IPv4 or IPv6 address");
  }
  ExpectError(MappedAddressFromResponse(
                  Response(";received=registrar.example;rport=5060")),
              absl::StatusCode::kInvalidArgument,
              "received=\"registrar.example\"");
}

TEST(MappedAddressTest, N1RportZeroIsInvalid) {
  sip::Via via = BehindNat();
  via.rport = 0;
  ExpectError(MappedAddressFromVia(via), absl::StatusCode::kInvalidArgument,
              "rport=0");
}

TEST(MappedAddressTest, N1UnparsableResponseKeepsTheParserCode) {
  ExpectError(MappedAddressFromResponse("HTTP/1.1 200 OK\r\n\r\n"),
              absl::StatusCode::kInvalidArgument, "SIP response: ");
  ExpectError(MappedAddressFromResponse("SIP/2.0 200 OK\r\nVia: x"),
              absl::StatusCode::kDataLoss, "SIP response: ");
  // rport out of range is caught by the SIP parser already.
  ExpectError(MappedAddressFromResponse(Response(";rport=70000")),
              absl::StatusCode::kInvalidArgument, "rport");
}

TEST(MappedAddressTest, CanonicalIp) {
  EXPECT_EQ(CanonicalIp("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(CanonicalIp("::FFFF:192.0.2.1"), "::ffff:192.0.2.1");
  EXPECT_EQ(CanonicalIp("2001:0db8:0000::0001"), "2001:db8::1");
  EXPECT_EQ(CanonicalIp(std::string(100, '1')), std::nullopt);
  EXPECT_EQ(CanonicalIp(absl::string_view("1.2.3.4\0x", 9)), std::nullopt);
}

}  // namespace
}  // namespace sipresolver::nat
