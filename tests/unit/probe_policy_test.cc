#include "lib/health/probe_policy.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sipresolver::health {
namespace {

using absl::StatusCode;

ProbePolicy MustParse(absl::string_view flag) {
  absl::StatusOr<ProbePolicy> policy = ProbePolicy::Parse(flag);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : ProbePolicy();
}

std::string ParseError(absl::string_view flag) {
  absl::StatusOr<ProbePolicy> policy = ProbePolicy::Parse(flag);
  if (policy.ok()) return "parsed OK";
  EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

bool Allowed(const ProbePolicy& policy, absl::string_view address,
             absl::string_view domain = "") {
  absl::Status status = policy.Check(address, domain, 5060);
  if (!status.ok()) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status;
  }
  return status.ok();
}

// --- Parse
// ---------------------------------------------------------------------

TEST(ProbePolicyTest, ParsesCidrsAndDomainsToCanonicalForm) {
  ProbePolicy policy =
      MustParse("192.0.2.0/24,2001:DB8::/32,ITSP.Example.COM.,127.0.0.1/32");
  EXPECT_FALSE(policy.empty());
  EXPECT_EQ(policy.ToString(),
            "192.0.2.0/24,2001:db8::/32,itsp.example.com,127.0.0.1/32");
}

TEST(ProbePolicyTest, ParseTrimsWhitespaceSkipsEmptyAndDuplicateEntries) {
  ProbePolicy policy = MustParse(
      " 192.0.2.0/24 ,, \titsp.example.com\n, ,192.0.2.0/24,ITSP.example.com,");
  EXPECT_EQ(policy.ToString(), "192.0.2.0/24,itsp.example.com");
}

TEST(ProbePolicyTest, BareAddressIsASingleHost) {
  ProbePolicy policy = MustParse("192.0.2.7, 2001:db8::7, [2001:db8::8]");
  EXPECT_EQ(policy.ToString(), "192.0.2.7/32,2001:db8::7/128,2001:db8::8/128");
  EXPECT_TRUE(Allowed(policy, "192.0.2.7"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.6"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.8"));
  EXPECT_TRUE(Allowed(policy, "2001:db8::7"));
  EXPECT_FALSE(Allowed(policy, "2001:db8::6"));
  EXPECT_TRUE(Allowed(policy, "2001:db8::8"));
}

TEST(ProbePolicyTest, ToStringRoundTripsAndNamesAnEmptyPolicy) {
  ProbePolicy policy = MustParse("10.0.0.0/8, fd00::/8, sip.example.net");
  EXPECT_EQ(MustParse(policy.ToString()).ToString(), policy.ToString());
  EXPECT_EQ(ProbePolicy().ToString(), "(none: no probe target is allowed)");
}

TEST(ProbePolicyTest, ParseRejectsEntryThatIsNeitherNamingIt) {
  EXPECT_EQ(ParseError("192.0.2.0/24, 300.1.1.1/8"),
            "probe_allow: \"300.1.1.1/8\" is neither a CIDR nor a domain name");
  // Address-looking entries are never taken as domain names.
  EXPECT_EQ(ParseError("300.1.1.1"),
            "probe_allow: \"300.1.1.1\" is neither a CIDR nor a domain name");
  EXPECT_EQ(ParseError("10.1.2"),
            "probe_allow: \"10.1.2\" is neither a CIDR nor a domain name");
  EXPECT_EQ(ParseError("192.0.2.0/"),
            "probe_allow: \"192.0.2.0/\" is neither a CIDR nor a domain name");
  EXPECT_EQ(
      ParseError("192.0.2.0/+8"),
      "probe_allow: \"192.0.2.0/+8\" is neither a CIDR nor a domain name");
  EXPECT_EQ(
      ParseError("192.0.2.0/24/24"),
      "probe_allow: \"192.0.2.0/24/24\" is neither a CIDR nor a domain name");
  EXPECT_EQ(
      ParseError("fe80::1%eth0"),
      "probe_allow: \"fe80::1%eth0\" is neither a CIDR nor a domain name");
  EXPECT_EQ(
      ParseError("example.com/24"),
      "probe_allow: \"example.com/24\" is neither a CIDR nor a domain name");
  // Domain-looking entries say what is wrong with the name.
  EXPECT_EQ(
      ParseError("*.example.com"),
      "probe_allow: \"*.example.com\" is neither a CIDR nor a domain name "
      "(label 1 has a character other than letters, digits, '-' or '_')");
  EXPECT_EQ(ParseError("sip..example.com"),
            "probe_allow: \"sip..example.com\" is neither a CIDR nor a domain "
            "name (label 2 is empty)");
  EXPECT_EQ(ParseError("example.123"),
            "probe_allow: \"example.123\" is neither a CIDR nor a domain name "
            "(its last label is all digits)");
}

TEST(ProbePolicyTest, ParseRejectsPrefixLengthOutOfRange) {
  EXPECT_EQ(
      ParseError("192.0.2.0/33"),
      "probe_allow: \"192.0.2.0/33\" has prefix length 33; IPv4 allows 0-32");
  EXPECT_EQ(
      ParseError("2001:db8::/129"),
      "probe_allow: \"2001:db8::/129\" has prefix length 129; IPv6 allows "
      "0-128");
  EXPECT_EQ(ParseError("192.0.2.0/00000000000000000033"),
            "probe_allow: \"192.0.2.0/00000000000000000033\" has prefix length "
            "00000000000000000033; IPv4 allows 0-32");
}

TEST(ProbePolicyTest, ParseRejectsHostBitsSetSuggestingTheNetwork) {
  EXPECT_EQ(ParseError("192.0.2.1/24"),
            "probe_allow: \"192.0.2.1/24\" has host bits set; did you mean "
            "192.0.2.0/24?");
  EXPECT_EQ(ParseError("2001:db8::1/32"),
            "probe_allow: \"2001:db8::1/32\" has host bits set; did you mean "
            "2001:db8::/32?");
}

TEST(ProbePolicyTest, ParseRejectsSingleLabelDomain) {
  // "com" would allow every .com server on a public address.
  EXPECT_EQ(ParseError("com"),
            "probe_allow: \"com\" is a single label; name a domain such as "
            "itsp.example.com, or a CIDR");
}

TEST(ProbePolicyTest, ParseEscapesControlCharactersInMessages) {
  EXPECT_EQ(ParseError(std::string("sip\x01.example.com")),
            "probe_allow: \"sip\\x01.example.com\" is neither a CIDR nor a "
            "domain name (label 1 has a character other than letters, digits, "
            "'-' or '_')");
  // A NUL does not end the entry early.
  EXPECT_EQ(ParseError(std::string("192.0.2.0/24\0", 13)),
            "probe_allow: \"192.0.2.0/24\\x00\" is neither a CIDR nor a "
            "domain name");
}

// --- Empty policy
// --------------------------------------------------------------

TEST(ProbePolicyTest, EmptyPolicyDeniesEverything) {
  for (const ProbePolicy& policy :
       {ProbePolicy(), MustParse(""), MustParse(" , ,")}) {
    EXPECT_TRUE(policy.empty());
    absl::Status status = policy.Check("192.0.2.1", "sip.example.com", 5060);
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(status.message(),
              "probe target 192.0.2.1 (from sip.example.com) is not allowed by "
              "--probe_allow (empty: no probe target is allowed)");
    EXPECT_FALSE(Allowed(policy, "2001:db8::1"));
  }
}

// --- CIDR membership
// -------------------------------------------------------------

TEST(ProbePolicyTest, Ipv4CidrMembershipEdges) {
  ProbePolicy policy = MustParse("192.0.2.0/24, 198.51.100.128/25");
  EXPECT_TRUE(Allowed(policy, "192.0.2.0"));
  EXPECT_TRUE(Allowed(policy, "192.0.2.255"));
  EXPECT_FALSE(Allowed(policy, "192.0.1.255"));
  EXPECT_FALSE(Allowed(policy, "192.0.3.0"));
  EXPECT_TRUE(Allowed(policy, "198.51.100.128"));
  EXPECT_TRUE(Allowed(policy, "198.51.100.255"));
  EXPECT_FALSE(Allowed(policy, "198.51.100.127"));
  EXPECT_FALSE(Allowed(policy, "198.51.101.0"));
}

TEST(ProbePolicyTest, Ipv6CidrMembershipEdges) {
  ProbePolicy policy = MustParse("2001:db8::/32");
  EXPECT_TRUE(Allowed(policy, "2001:db8::"));
  EXPECT_TRUE(Allowed(policy, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(Allowed(policy, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(Allowed(policy, "2001:db9::"));

  // A prefix that ends inside the low 64 bits.
  ProbePolicy narrow = MustParse("2001:db9:1:2:8000::/65");
  EXPECT_TRUE(Allowed(narrow, "2001:db9:1:2:8000::"));
  EXPECT_TRUE(Allowed(narrow, "2001:db9:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(Allowed(narrow, "2001:db9:1:2:7fff:ffff:ffff:ffff"));
  EXPECT_FALSE(Allowed(narrow, "2001:db9:1:3:8000::"));
}

TEST(ProbePolicyTest, CidrMatchesItsOwnAddressFamilyOnly) {
  ProbePolicy v4_all = MustParse("0.0.0.0/0");
  EXPECT_TRUE(Allowed(v4_all, "203.0.113.9"));
  EXPECT_FALSE(Allowed(v4_all, "2001:db8::1"));
  ProbePolicy v6_all = MustParse("::/0");
  EXPECT_TRUE(Allowed(v6_all, "2001:db8::1"));
  EXPECT_FALSE(Allowed(v6_all, "203.0.113.9"));
}

// --- Domains
// -------------------------------------------------------------------

TEST(ProbePolicyTest, DomainAllowsItselfAndSubdomains) {
  ProbePolicy policy = MustParse("example.com");
  EXPECT_TRUE(Allowed(policy, "192.0.2.1", "example.com"));
  EXPECT_TRUE(Allowed(policy, "192.0.2.1", "sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "2001:db8::1", "a.b.sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "198.51.100.1", "_sip._udp.example.com"));
}

TEST(ProbePolicyTest, DomainMatchesOnLabelBoundaryOnly) {
  ProbePolicy policy = MustParse("example.com");
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "evil-example.com"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "notexample.com"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "example.com.evil.net"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "example.co"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "com"));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", ""));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "."));
  // Text a C resolver would read differently from how it ends.
  EXPECT_FALSE(
      Allowed(policy, "192.0.2.1", std::string("evil.net\0.example.com", 21)));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "evil.net .example.com"));
}

TEST(ProbePolicyTest, DomainMatchIgnoresCaseAndOneTrailingDot) {
  ProbePolicy policy = MustParse("ITSP.Example.com");
  EXPECT_TRUE(Allowed(policy, "192.0.2.1", "SIP.ITSP.EXAMPLE.COM"));
  EXPECT_TRUE(Allowed(policy, "192.0.2.1", "itsp.example.com."));
  EXPECT_FALSE(Allowed(policy, "192.0.2.1", "itsp.example.com.."));
}

// --- Special-use ranges
// ----------------------------------------------------------

TEST(ProbePolicyTest, SpecialUseRefusedEvenForAllowedDomain) {
  ProbePolicy policy = MustParse("example.com");
  struct Case {
    const char* address;
    const char* what;
  };
  const Case cases[] = {
      {"127.0.0.1", "a loopback"},
      {"127.255.255.254", "a loopback"},
      {"::1", "a loopback"},
      {"0.0.0.0", "an unspecified"},
      {"0.1.2.3", "an unspecified"},
      {"::", "an unspecified"},
      {"169.254.169.254", "a link-local"},  // Cloud metadata service.
      {"fe80::1", "a link-local"},
      {"febf:ffff::1", "a link-local"},
      {"10.1.2.3", "a private"},
      {"172.16.0.1", "a private"},
      {"172.31.255.255", "a private"},
      {"192.168.1.1", "a private"},
      {"fd12:3456::1", "a private (unique local)"},
      {"fc00::1", "a private (unique local)"},
      {"fec0::1", "a site-local"},
      {"100.64.0.1", "a shared (CGNAT)"},
      {"100.127.255.255", "a shared (CGNAT)"},
      {"224.0.0.1", "a multicast"},
      {"239.255.255.250", "a multicast"},
      {"ff02::1", "a multicast"},
      {"255.255.255.255", "a broadcast"},
      {"240.0.0.1", "a reserved"},
      {"192.0.0.9", "an IETF protocol-assignment"},
      {"198.18.0.1", "a benchmarking"},
      {"198.19.255.255", "a benchmarking"},
      {"::10.0.0.1", "an IPv4-compatible (deprecated)"},
      {"64:ff9b:1::a00:1", "a NAT64 local-use"},
  };
  for (const Case& c : cases) {
    absl::Status status = policy.Check(c.address, "sip.example.com", 5060);
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << c.address;
    EXPECT_EQ(
        status.message(),
        absl::StrCat(
            "probe target ", c.address, " (from sip.example.com) is ", c.what,
            " address; allow its range explicitly with --probe_allow"));
  }
}

TEST(ProbePolicyTest, RangesNextToSpecialUseAreOrdinary) {
  ProbePolicy policy = MustParse("example.com");
  for (const char* address :
       {"172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0",
        "169.253.255.255", "11.0.0.0", "9.255.255.255", "198.17.255.255",
        "198.20.0.0", "223.255.255.255", "192.0.1.255", "fbff::1", "fe7f::1",
        "::2:0:0:1"}) {
    EXPECT_TRUE(Allowed(policy, address, "sip.example.com")) << address;
  }
}

TEST(ProbePolicyTest, DocumentationRangesAreNotSpecialUse) {
  ProbePolicy policy = MustParse("example.com");
  for (const char* address :
       {"192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1"}) {
    EXPECT_TRUE(Allowed(policy, address, "sip.example.com")) << address;
  }
}

TEST(ProbePolicyTest, SpecialUseAllowedWhenACidrCoversIt) {
  ProbePolicy policy =
      MustParse("127.0.0.1/32, ::1, 10.20.0.0/16, fd00:1::/32, example.com");
  EXPECT_TRUE(Allowed(policy, "127.0.0.1"));
  EXPECT_TRUE(Allowed(policy, "127.0.0.1", "sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "127.0.0.1", "sip.other.net"));
  EXPECT_TRUE(Allowed(policy, "::1", "sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "10.20.3.4", "sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "fd00:1::5", "sip.example.com"));
  // Only the covered part of the range.
  EXPECT_FALSE(Allowed(policy, "127.0.0.2", "sip.example.com"));
  EXPECT_FALSE(Allowed(policy, "10.21.0.1", "sip.example.com"));
  EXPECT_FALSE(Allowed(policy, "fd00:2::5", "sip.example.com"));
}

TEST(ProbePolicyTest, Nat64And6to4OfSpecialIpv4AreSpecial) {
  ProbePolicy policy = MustParse("example.com");
  absl::Status status =
      policy.Check("64:ff9b::10.1.2.3", "sip.example.com", 5060);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "probe target 64:ff9b::a01:203 (from sip.example.com) is a NAT64 "
            "address embedding a private IPv4 address; allow its range "
            "explicitly with --probe_allow");
  status = policy.Check("2002:7f00:1::1", "sip.example.com", 5060);
  EXPECT_EQ(status.message(),
            "probe target 2002:7f00:1::1 (from sip.example.com) is a 6to4 "
            "address embedding a loopback IPv4 address; allow its range "
            "explicitly with --probe_allow");
  EXPECT_TRUE(Allowed(policy, "64:ff9b::192.0.2.1", "sip.example.com"));
  EXPECT_TRUE(Allowed(policy, "2002:c000:201::1", "sip.example.com"));
}

// --- IPv4-mapped IPv6
// ----------------------------------------------------------

TEST(ProbePolicyTest, Ipv4MappedIpv6IsTreatedAsIpv4) {
  ProbePolicy policy = MustParse("192.0.2.0/24, 127.0.0.1, example.com");
  EXPECT_TRUE(Allowed(policy, "::ffff:192.0.2.1"));
  EXPECT_FALSE(Allowed(policy, "::ffff:192.0.3.1"));
  EXPECT_TRUE(Allowed(policy, "::ffff:127.0.0.1"));
  EXPECT_TRUE(Allowed(policy, "::ffff:203.0.113.5", "sip.example.com"));
  absl::Status status =
      policy.Check("::FFFF:10.0.0.1", "sip.example.com", 5060);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "probe target ::ffff:10.0.0.1 (from sip.example.com) is a private "
            "address; allow its range explicitly with --probe_allow");
}

TEST(ProbePolicyTest, Ipv4MappedCidrEntryIsAnIpv4Cidr) {
  ProbePolicy policy = MustParse("::ffff:10.0.0.0/104");
  EXPECT_EQ(policy.ToString(), "10.0.0.0/8");
  EXPECT_TRUE(Allowed(policy, "10.9.8.7"));
  EXPECT_TRUE(Allowed(policy, "::ffff:10.9.8.7"));
  // An IPv6 entry wider than ::ffff:0:0/96 still means IPv6 only.
  EXPECT_FALSE(Allowed(MustParse("::/0"), "::ffff:10.9.8.7"));
}

// --- Messages
// ------------------------------------------------------------------

TEST(ProbePolicyTest, DenialNamesTheHostAndTheDomain) {
  ProbePolicy policy = MustParse("itsp.example.com");
  absl::Status status = policy.Check("10.1.2.3", "sip.example.com", 5060);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "probe target 10.1.2.3 (from sip.example.com) is not allowed by "
            "--probe_allow");
  status = policy.Check("2001:DB8:0::1", "", 5060);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "probe target 2001:db8::1 is not allowed by --probe_allow");
}

TEST(ProbePolicyTest, CheckRejectsTextThatIsNotAnAddress) {
  ProbePolicy policy = MustParse("0.0.0.0/0, ::/0, example.com");
  for (const char* address : {"", "sip.example.com", "192.0.2.1:5060",
                              "fe80::1%eth0", "[192.0.2.1"}) {
    EXPECT_EQ(policy.Check(address, "sip.example.com", 5060).code(),
              StatusCode::kInvalidArgument)
        << address;
  }
  // An embedded NUL must not cut the text short to an allowed address.
  EXPECT_EQ(policy.Check(std::string("192.0.2.1\0.5", 12), "", 5060).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Allowed(policy, "[2001:db8::1]"));
}

// --- Ports
// ------------------------------------------------------------------------

TEST(ProbePolicyTest, EntriesTakeAPortOrARangeOfPorts) {
  ProbePolicy policy = MustParse(
      "192.0.2.0/24:5060-5061, [2001:DB8::/32]:5080, itsp.example.com:5070,"
      " 192.0.2.0/24:5090, 198.51.100.7");
  EXPECT_EQ(policy.ToString(),
            "192.0.2.0/24:5060-5061,[2001:db8::/32]:5080,itsp.example.com:5070,"
            "192.0.2.0/24:5090,198.51.100.7/32");
  EXPECT_EQ(MustParse(policy.ToString()).ToString(), policy.ToString());
  for (uint16_t port : {5060, 5061, 5090}) {
    EXPECT_TRUE(policy.Check("192.0.2.1", "", port).ok()) << port;
  }
  EXPECT_TRUE(policy.Check("2001:db8::1", "", 5080).ok());
  EXPECT_TRUE(policy.Check("203.0.113.9", "sip.itsp.example.com", 5070).ok());
  EXPECT_TRUE(policy.Check("198.51.100.7", "", 1).ok());  // No ports: all.
  for (uint16_t port : {5059, 5062, 5089, 5091}) {
    EXPECT_EQ(policy.Check("192.0.2.1", "", port).code(),
              StatusCode::kPermissionDenied)
        << port;
  }
  EXPECT_FALSE(policy.Check("2001:db8::1", "", 5060).ok());
  EXPECT_FALSE(policy.Check("203.0.113.9", "itsp.example.com", 5060).ok());
}

TEST(ProbePolicyTest, PortDenialNamesThePort) {
  ProbePolicy policy = MustParse("192.0.2.0/24:5060, itsp.example.com:5060");
  absl::Status status = policy.Check("192.0.2.1", "", 5999);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "probe target 192.0.2.1 port 5999 is not among the ports "
            "--probe_allow allows for it");
  status = policy.Check("203.0.113.9", "itsp.example.com", 22);
  EXPECT_EQ(status.message(),
            "probe target 203.0.113.9 (from itsp.example.com) port 22 is not "
            "among the ports --probe_allow allows for it");
  // Another network is not allowed at all, whatever its port.
  EXPECT_EQ(policy.Check("198.51.100.1", "", 5060).message(),
            "probe target 198.51.100.1 is not allowed by --probe_allow");
}

TEST(ProbePolicyTest, ParseRejectsBadPortsNamingTheEntry) {
  for (const char* entry :
       {"192.0.2.0/24:0", "192.0.2.0/24:65536", "192.0.2.0/24:5061-5060",
        "itsp.example.com:", "itsp.example.com:50a", "[2001:db8::/32]:",
        "192.0.2.0/24:1-2-3", "itsp.example.com:99999999999"}) {
    const std::string error = ParseError(entry);
    EXPECT_NE(error.find(absl::StrCat("\"", entry, "\"")), std::string::npos)
        << error;
    EXPECT_NE(error.find("PORT or FIRST-LAST within 1-65535"),
              std::string::npos)
        << error;
  }
  EXPECT_NE(ParseError("[2001:db8::/32]5060").find("neither"),
            std::string::npos);
  EXPECT_NE(ParseError("[2001:db8::/32").find("neither"), std::string::npos);
}

}  // namespace
}  // namespace sipresolver::health
