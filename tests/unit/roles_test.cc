// Roles: which certificate identities are operators, and which methods are
// theirs alone.
#include "server/roles.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sipresolver::server {
namespace {

constexpr char kList[] = "/sipresolver.v1.SipResolver/ListServers";
constexpr char kReflect[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

RolePolicy MustParse(absl::string_view flag) {
  absl::StatusOr<RolePolicy> policy = RolePolicy::Parse(flag);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.value_or(RolePolicy());
}

TEST(RolePolicyTest, PatternsMatchWholeIdentitiesWithStars) {
  RolePolicy policy = MustParse(" ops-*.example.com, admin ,*.ops.test");
  EXPECT_TRUE(policy.IsOperator({"ops-1.example.com"}));
  EXPECT_TRUE(policy.IsOperator({"ops-.example.com"}));
  EXPECT_TRUE(policy.IsOperator({"agent", "admin"}));  // Any SAN.
  EXPECT_TRUE(policy.IsOperator({"a.b.ops.test"}));
  EXPECT_FALSE(policy.IsOperator({"admin2"}));
  EXPECT_FALSE(policy.IsOperator({"xops-1.example.com"}));
  EXPECT_FALSE(policy.IsOperator({"ops-1.example.com.evil"}));
  EXPECT_FALSE(policy.IsOperator({}));
  // A long identity against many stars stays linear.
  RolePolicy stars = MustParse("*a*a*a*a*a*a*a*b");
  EXPECT_FALSE(stars.IsOperator({std::string(10000, 'a')}));
}

TEST(RolePolicyTest, AgentsMayDoAllButListAndReflect) {
  RolePolicy policy = MustParse("ops");
  for (const char* method : {"/sipresolver.v1.SipResolver/Resolve",
                             "/sipresolver.v1.SipResolver/WatchDecision",
                             "/sipresolver.v1.SipResolver/ReportObservation",
                             "/grpc.health.v1.Health/Check"}) {
    EXPECT_TRUE(policy.Check(method, {"agent-7"}).ok()) << method;
  }
  for (const char* method : {kList, kReflect}) {
    absl::Status s = policy.Check(method, {"agent-7"});
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(s.message().find("--operator_identities"), std::string::npos);
    EXPECT_TRUE(policy.Check(method, {"ops"}).ok());
  }
  EXPECT_NE(RolePolicy().Check(kList, {}).message().find("(none set)"),
            std::string::npos);
}

TEST(RolePolicyTest, PatternsThatNameNobodyOrEveryoneAreRefused) {
  for (const std::string& flag :
       std::vector<std::string>{"*", "ops,**", std::string(254, 'a')}) {
    EXPECT_EQ(RolePolicy::Parse(flag).status().code(),
              absl::StatusCode::kInvalidArgument)
        << flag;
  }
  EXPECT_TRUE(MustParse(" , ").patterns().empty());
}

}  // namespace
}  // namespace sipresolver::server
