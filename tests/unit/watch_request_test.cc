// WatchDecision requests as the service checks them: every field a client
// sends is validated, naming the field (never silently clamped).
#include "gtest/gtest.h"
#include "server/decision_convert.h"

namespace sipresolver::server {
namespace {

v1::WatchDecisionRequest Request() {
  v1::WatchDecisionRequest r;
  r.set_agent_id("device-1");
  r.mutable_profile()->set_proxy_server("itsp.test");
  r.mutable_profile()->set_proxy_server_redundancy(true);
  return r;
}

void ExpectInvalid(const v1::WatchDecisionRequest& r,
                   const std::string& field) {
  auto out = ToWatchRequest(r);
  ASSERT_FALSE(out.ok()) << field;
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message().rfind(field, 0), 0u) << out.status();
}

TEST(WatchRequestTest, S8_S9_CheckIntervalsOutsideOneSecondToADayAreRejected) {
  for (auto [seconds, nanos] : {std::pair{0, 500000000}, std::pair{86400, 1},
                                std::pair{86401, 0}, std::pair{-1, 0}}) {
    v1::WatchDecisionRequest r = Request();
    r.mutable_profile()->mutable_check_primary_fallback_interval()->set_seconds(
        seconds);
    r.mutable_profile()->mutable_check_primary_fallback_interval()->set_nanos(
        nanos);
    ExpectInvalid(r, "profile.check_primary_fallback_interval");
    r = Request();
    r.mutable_profile()
        ->mutable_check_secondary_fallback_interval()
        ->set_seconds(seconds);
    r.mutable_profile()->mutable_check_secondary_fallback_interval()->set_nanos(
        nanos);
    ExpectInvalid(r, "profile.check_secondary_fallback_interval");
  }
}

TEST(WatchRequestTest,
     S8_UnsetIntervalIsTheDevicesDefaultAndBoundsAreAccepted) {
  v1::WatchDecisionRequest r = Request();
  EXPECT_EQ(ToWatchRequest(r)->profile.check_primary_fallback_interval,
            absl::Seconds(60));
  r.mutable_profile()->mutable_check_primary_fallback_interval()->set_seconds(
      1);
  EXPECT_TRUE(ToWatchRequest(r).ok());
  r.mutable_profile()->mutable_check_primary_fallback_interval()->set_seconds(
      86400);
  EXPECT_TRUE(ToWatchRequest(r).ok());
}

TEST(WatchRequestTest, AgentIdIsCheckedOnceForEveryRpc) {
  for (const std::string bad : {std::string(), std::string(129, 'a'),
                                std::string("dev 1"), std::string("dev\n1")}) {
    v1::WatchDecisionRequest r = Request();
    r.set_agent_id(bad);
    ExpectInvalid(r, "agent_id");
    EXPECT_FALSE(ValidateAgentId(bad).ok());
  }
  EXPECT_TRUE(ValidateAgentId(std::string(128, 'a')).ok());
}

TEST(WatchRequestTest, AppliedServersAreAddressesWithTheProfilesTransport) {
  v1::WatchDecisionRequest r = Request();
  r.mutable_applied_primary()->set_address("192.0.2.2");
  r.mutable_applied_primary()->set_port(5062);
  auto w = ToWatchRequest(r);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->applied.primary.has_value());
  EXPECT_EQ(w->applied.primary->address, "192.0.2.2");
  EXPECT_EQ(w->applied.primary->port, 5062);
  EXPECT_EQ(w->applied.primary->transport, w->profile.transport);
  EXPECT_FALSE(w->applied.secondary.has_value());
  r.mutable_applied_secondary()->set_address("pbx.itsp.test");  // Not an IP.
  r.mutable_applied_secondary()->set_port(5060);
  ExpectInvalid(r, "applied_secondary");
  r.mutable_applied_secondary()->set_address("192.0.2.3");
  r.mutable_applied_secondary()->set_port(70000);
  ExpectInvalid(r, "applied_secondary");
}

TEST(WatchRequestTest, AVersionNoReplicaGivesIsRejectedNotWrapped) {
  v1::WatchDecisionRequest r = Request();
  r.set_last_applied_version(uint64_t{1} << 53);
  EXPECT_EQ(ToWatchRequest(r)->last_applied_version, uint64_t{1} << 53);
  r.set_last_applied_version((uint64_t{1} << 53) + 1);
  ExpectInvalid(r, "last_applied_version");
  r.set_last_applied_version(~uint64_t{0});
  ExpectInvalid(r, "last_applied_version");
}

}  // namespace
}  // namespace sipresolver::server
