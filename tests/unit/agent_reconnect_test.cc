// The typed "reconnect now" contract (reconnect.h), and the message text
// older servers send.
#include "client/agent.h"
#include "gtest/gtest.h"
#include "sipresolver/v1/reconnect.h"

namespace sipresolver::client {
namespace {

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(AgentReconnectTest, TrailingMetadataAsksToReconnectNow) {
  const Metadata now = {{v1::kReconnectKey, v1::kReconnectNow}};
  EXPECT_TRUE(ServerAsksToReconnectNow(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"), now));
  // Only UNAVAILABLE means it.
  EXPECT_FALSE(ServerAsksToReconnectNow(
      grpc::Status(grpc::StatusCode::INTERNAL, ""), now));
}

TEST(AgentReconnectTest, OlderServersSayItInTheMessage) {
  EXPECT_TRUE(
      ServerAsksToReconnectNow(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                            "server shutting down; reconnect"),
                               {}));
  EXPECT_FALSE(ServerAsksToReconnectNow(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"), {}));
}

TEST(AgentReconnectTest, MetadataWinsOverTheMessage) {
  const Metadata later = {{v1::kReconnectKey, "later"}};
  EXPECT_FALSE(ServerAsksToReconnectNow(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "reconnect"), later));
}

}  // namespace
}  // namespace sipresolver::client
