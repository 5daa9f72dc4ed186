// How --etcd_endpoints becomes a gRPC target, and etcd's prefix ranges
// (server/etcd/etcd_client.h); no etcd needed.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/etcd_client.h"
#include "tests/support/expect_error.h"

namespace sipresolver::testing {
namespace {

using etcd::EtcdClient;

TEST(EtcdClientEndpointsTest, OneEndpointByAddressOrName) {
  EXPECT_EQ(*EtcdClient::ChannelTarget("127.0.0.1:2379"),
            "ipv4:127.0.0.1:2379");
  EXPECT_EQ(*EtcdClient::ChannelTarget("[::1]:2379"), "ipv6:[::1]:2379");
  EXPECT_EQ(*EtcdClient::ChannelTarget("etcd.kube-system:2379"),
            "dns:///etcd.kube-system:2379");
}

TEST(EtcdClientEndpointsTest, SeveralAddressesAreOneBalancedTarget) {
  EXPECT_EQ(*EtcdClient::ChannelTarget("127.0.0.1:2379, 127.0.0.2:2379,"),
            "ipv4:127.0.0.1:2379,127.0.0.2:2379");
  EXPECT_EQ(*EtcdClient::ChannelTarget("[::1]:1,[::1]:2"),
            "ipv6:[::1]:1,[::1]:2");
}

TEST(EtcdClientEndpointsTest, RejectsWhatGrpcCannotBalanceOrParse) {
  ExpectError(EtcdClient::ChannelTarget(""), absl::StatusCode::kInvalidArgument,
              "empty");
  ExpectError(EtcdClient::ChannelTarget("a:1,b:2"),
              absl::StatusCode::kInvalidArgument,
              "must all be IPv4 or all IPv6");
  ExpectError(EtcdClient::ChannelTarget("127.0.0.1:1,[::1]:2"),
              absl::StatusCode::kInvalidArgument,
              "must all be IPv4 or all IPv6");
  ExpectError(EtcdClient::ChannelTarget("127.0.0.1"),
              absl::StatusCode::kInvalidArgument, "host:port");
  ExpectError(EtcdClient::ChannelTarget("127.0.0.1:0"),
              absl::StatusCode::kInvalidArgument, "1 to 65535");
  ExpectError(EtcdClient::ChannelTarget("http://127.0.0.1:2379"),
              absl::StatusCode::kInvalidArgument, "host:port");
  ExpectError(EtcdClient::ChannelTarget("[zz]:1"),
              absl::StatusCode::kInvalidArgument, "IPv6");
}

TEST(EtcdClientEndpointsTest, PrefixEndIncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(EtcdClient::PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(EtcdClient::PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(EtcdClient::PrefixEnd(""), std::string(1, '\0'));
  EXPECT_EQ(EtcdClient::PrefixEnd(std::string("\xff\xff", 2)),
            std::string(1, '\0'));
}

}  // namespace
}  // namespace sipresolver::testing
