// The one way an address and a port are written for people, logs and hooks.
#include "lib/core/host_port.h"

#include "gtest/gtest.h"

namespace sipresolver {
namespace {

TEST(HostPortTest, Ipv6InBracketsEverythingElseAsItIs) {
  EXPECT_EQ(HostPort("192.0.2.1", 5060), "192.0.2.1:5060");
  EXPECT_EQ(HostPort("2001:db8::1", 5061), "[2001:db8::1]:5061");
  EXPECT_EQ(HostPort("pbx.example.com", 5060), "pbx.example.com:5060");
  EXPECT_EQ(BracketedHost("::1"), "[::1]");
  EXPECT_EQ(BracketedHost("192.0.2.1"), "192.0.2.1");
}

}  // namespace
}  // namespace sipresolver
