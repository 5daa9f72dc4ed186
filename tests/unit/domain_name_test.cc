#include "lib/dns/domain_name.h"

#include <string>

#include "gtest/gtest.h"

namespace sipresolver::dns {
namespace {

TEST(DomainNameTest, LowerCasesAndDropsTrailingDot) {
  EXPECT_EQ(*NormalizeDomainName("SIP.Example.COM."), "sip.example.com");
}

TEST(DomainNameTest, AcceptsUnderscoreLabelsForSrvNames) {
  EXPECT_EQ(*NormalizeDomainName("_sip._udp.example.com"),
            "_sip._udp.example.com");
}

TEST(DomainNameTest, RejectsEmptyName) {
  EXPECT_EQ(NormalizeDomainName("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeDomainName(".").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DomainNameTest, RejectsOverLongName) {
  std::string name;
  while (name.size() < 254) name += "abcdefghi.";
  name += "com";
  auto result = NormalizeDomainName(name);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("253"), std::string::npos);
}

TEST(DomainNameTest, RejectsOverLongLabel) {
  auto result = NormalizeDomainName(std::string(64, 'a') + ".com");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("label 1"), std::string::npos);
  EXPECT_TRUE(NormalizeDomainName(std::string(63, 'a') + ".com").ok());
}

TEST(DomainNameTest, RejectsEmptyLabelAndBadCharacters) {
  EXPECT_FALSE(NormalizeDomainName("a..com").ok());
  EXPECT_FALSE(NormalizeDomainName("sip example.com").ok());
  EXPECT_FALSE(NormalizeDomainName("sip/example.com").ok());
  EXPECT_FALSE(NormalizeDomainName("-sip.example.com").ok());
  EXPECT_FALSE(NormalizeDomainName("sip-.example.com").ok());
  EXPECT_FALSE(NormalizeDomainName(std::string("a\0b.com", 7)).ok());
}

TEST(DomainNameTest, ParsesIpLiterals) {
  EXPECT_EQ(ParseIpLiteral("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(ParseIpLiteral("2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(ParseIpLiteral("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(ParseIpLiteral("sip.example.com"), std::nullopt);
  EXPECT_EQ(ParseIpLiteral("192.0.2.256"), std::nullopt);
  EXPECT_EQ(ParseIpLiteral("[192.0.2.1"), std::nullopt);
  EXPECT_EQ(ParseIpLiteral(""), std::nullopt);
}

}  // namespace
}  // namespace sipresolver::dns
