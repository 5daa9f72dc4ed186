// Who a caller is for per-client counting: the certificate, else the
// address (an IPv6 /64), never the agent id it sends.
#include "server/client_identity.h"

#include "gtest/gtest.h"

namespace sipresolver::server {
namespace {

TEST(ClientIdentityTest, VerifiedCertificateIsTheIdentityWhateverTheAddress) {
  EXPECT_EQ(ClientIdentity({"agent-7"}, "ipv4:192.0.2.1:40000"),
            "cert:agent-7");
  EXPECT_EQ(ClientIdentity({"a.example", "b.example"}, "ipv4:192.0.2.9:1"),
            "cert:a.example,b.example");
}

TEST(ClientIdentityTest, Ipv4ClientIsItsAddressWhateverThePort) {
  EXPECT_EQ(ClientIdentity({}, "ipv4:192.0.2.1:40000"), "ip:192.0.2.1");
  EXPECT_EQ(ClientIdentity({}, "ipv4:192.0.2.1:40001"), "ip:192.0.2.1");
  EXPECT_NE(ClientIdentity({}, "ipv4:192.0.2.2:40000"), "ip:192.0.2.1");
}

TEST(ClientIdentityTest, Ipv6ClientIsItsSlash64) {
  const std::string a = ClientIdentity({}, "ipv6:[2001:db8:1:2::1]:40000");
  EXPECT_EQ(a, "ip:2001:db8:1:2::/64");
  EXPECT_EQ(ClientIdentity({}, "ipv6:[2001:db8:1:2:ffff:1:2:3]:1"), a);
  EXPECT_NE(ClientIdentity({}, "ipv6:[2001:db8:1:3::1]:1"), a);
  // IPv4-mapped: the IPv4 client.
  EXPECT_EQ(ClientIdentity({}, "ipv6:[::ffff:192.0.2.1]:40000"),
            "ip:192.0.2.1");
}

TEST(ClientIdentityTest, AnythingElseIsThePeerText) {
  EXPECT_EQ(ClientIdentity({}, "unix:/run/sipresolver.sock"),
            "unix:/run/sipresolver.sock");
  EXPECT_EQ(ClientIdentity({}, "ipv6:[not-an-address]:1"),
            "ipv6:[not-an-address]:1");
}

}  // namespace
}  // namespace sipresolver::server
