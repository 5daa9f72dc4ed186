// What the agent decides by itself without the service
// (client/local_decisions.h): local failover on the device's reports
// (S6-S10) and device control after --device_control_after, on simulated
// time.
#include "client/local_decisions.h"

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace sipresolver::client {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kA[] = "192.0.2.11";
constexpr char kB[] = "192.0.2.12";
constexpr char kC[] = "192.0.2.13";

v1::Candidate Candidate(const char* address, uint32_t priority) {
  v1::Candidate c;
  c.set_target("pbx.itsp.test");
  c.set_address(address);
  c.set_port(5060);
  c.set_priority(priority);
  return c;
}

// What the service sent last: A primary, B secondary, candidates A, B, C
// (priorities 10, 20, 30), keep-alives to A.
v1::Decision Held() {
  v1::Decision d;
  d.set_version(1795483678818001);
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_PROBES);
  d.set_probe_path_suspect(true);
  for (const auto& [address, priority] :
       {std::pair{kA, 10}, std::pair{kB, 20}, std::pair{kC, 30}}) {
    *d.add_candidates() = Candidate(address, priority);
  }
  *d.mutable_primary() = d.candidates(0);
  *d.mutable_secondary() = d.candidates(1);
  *d.add_secondary_fallback() = d.candidates(0);
  d.mutable_keep_alive_target()->set_address(kA);
  d.mutable_keep_alive_target()->set_port(5060);
  d.mutable_keep_alive_target()->set_transport(v1::TRANSPORT_UDP);
  *d.mutable_next_search_time() = TimeUtil::SecondsToTimestamp(1);
  d.set_reason("S6: from the service");
  return d;
}

v1::ItspProfile Profile(bool secondary_registration) {
  v1::ItspProfile p;
  p.set_proxy_server("itsp.example.com");
  p.set_proxy_server_redundancy(true);
  p.set_secondary_registration(secondary_registration);
  return p;
}

class LocalDecisionsTest : public ::testing::Test {
 protected:
  const absl::Time start_ = absl::UnixEpoch() + absl::Hours(1);
  const absl::Time wall_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(LocalDecisionsTest, WithTheServiceReportsMoveNothing) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  EXPECT_FALSE(local.without_service());
  EXPECT_FALSE(local.OnReport(Held(), kA, 5060, 408, wall_).has_value());
}

TEST_F(LocalDecisionsTest, S6PrimaryFailsTheNextCandidateIsPrimary) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  v1::Decision held = Held();
  held.clear_secondary();
  auto d = local.OnReport(held, kA, 5060, 408, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->state(), v1::DECISION_STATE_ACTIVE);
  EXPECT_EQ(d->assurance(), v1::ASSURANCE_UNCONFIRMED);
  EXPECT_FALSE(d->probe_path_suspect());
  EXPECT_EQ(d->version(), held.version());
  EXPECT_EQ(d->primary().address(), kB);
  EXPECT_EQ(d->primary().target(), "pbx.itsp.test");  // Copied whole.
  EXPECT_FALSE(d->has_secondary());
  EXPECT_TRUE(d->secondary_fallback().empty());
  EXPECT_FALSE(d->has_next_search_time());
  EXPECT_EQ(TimeUtil::TimestampToSeconds(d->generated_at()),
            absl::ToUnixSeconds(wall_));
  EXPECT_EQ(d->candidates_size(), 3);
  EXPECT_EQ(d->reason(),
            "the service is unreachable: the device reported REGISTER with "
            "192.0.2.11:5060 failing (408); moved down the candidates in its "
            "own order (S6-S10, local failover)");
}

// S8: the device keeps trying the candidates of higher priority.
TEST_F(LocalDecisionsTest, S8PrimaryFallbackIsTheCandidatesAboveThePrimary) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  auto d = local.OnReport(Held(), kA, 5060, 408, wall_);
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->primary_fallback_size(), 1);
  EXPECT_EQ(d->primary_fallback(0).address(), kA);
  d = local.OnReport(*d, kB, 5060, 0, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().address(), kC);
  ASSERT_EQ(d->primary_fallback_size(), 2);
  EXPECT_EQ(d->primary_fallback(0).address(), kA);
  EXPECT_EQ(d->primary_fallback(1).address(), kB);
}

TEST_F(LocalDecisionsTest, S10SecondaryIsPromotedAndS9NextBecomesSecondary) {
  LocalDecisions local(Profile(true), absl::ZeroDuration());
  local.ServiceLost(start_);
  auto d = local.OnReport(Held(), kA, 5060, 503, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().address(), kB);
  ASSERT_TRUE(d->has_secondary());
  EXPECT_EQ(d->secondary().address(), kC);
}

// S9: a secondary registration needs redundancy on as well.
TEST_F(LocalDecisionsTest, S9NoSecondaryWithoutRedundancy) {
  v1::ItspProfile profile = Profile(true);
  profile.set_proxy_server_redundancy(false);
  LocalDecisions local(profile, absl::ZeroDuration());
  local.ServiceLost(start_);
  auto d = local.OnReport(Held(), kA, 5060, 503, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().address(), kB);  // S10: the held one is promoted.
  EXPECT_FALSE(d->has_secondary());
}

TEST_F(LocalDecisionsTest, S9SecondaryFailsTheNextIsSecondary) {
  LocalDecisions local(Profile(true), absl::ZeroDuration());
  local.ServiceLost(start_);
  auto d = local.OnReport(Held(), kB, 5060, 0, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().address(), kA);
  EXPECT_EQ(d->secondary().address(), kC);
  EXPECT_EQ(d->keep_alive_target().address(), kA);  // The primary stayed.
  EXPECT_NE(d->reason().find("192.0.2.12:5060 failing (no response)"),
            std::string::npos)
      << d->reason();
}

TEST_F(LocalDecisionsTest, N2KeepAliveFollowsThePrimaryItPointedAt) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  auto d = local.OnReport(Held(), kA, 5060, 408, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->keep_alive_target().address(), kB);
  EXPECT_EQ(d->keep_alive_target().port(), 5060u);
  EXPECT_EQ(d->keep_alive_target().transport(), v1::TRANSPORT_UDP);
}

TEST_F(LocalDecisionsTest, N2KeepAliveElsewhereStaysWhereItIs) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  v1::Decision held = Held();
  held.mutable_keep_alive_target()->set_address("198.51.100.7");
  auto d = local.OnReport(held, kA, 5060, 408, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->keep_alive_target().address(), "198.51.100.7");
}

TEST_F(LocalDecisionsTest, RegistrationOrUnknownServerMovesNothing) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  EXPECT_FALSE(local.OnReport(Held(), kA, 5060, 200, wall_).has_value());
  EXPECT_FALSE(
      local.OnReport(Held(), "198.51.100.7", 5060, 408, wall_).has_value());
  EXPECT_FALSE(local.OnReport(Held(), kA, 5070, 408, wall_).has_value());
}

TEST_F(LocalDecisionsTest, OnlyAnActiveDecisionMoves) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  v1::Decision none = Held();
  none.set_state(v1::DECISION_STATE_NO_WORKING_SERVER);
  none.clear_primary();
  EXPECT_FALSE(local.OnReport(none, kA, 5060, 408, wall_).has_value());
}

// S7's failed set lasts as long as the outage: the service's return wipes it.
TEST_F(LocalDecisionsTest, ServiceBackForgetsTheReportedFailures) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  v1::Decision held = Held();
  held.clear_secondary();
  local.ServiceLost(start_);
  EXPECT_FALSE(local.OnReport(held, kB, 5060, 408, wall_).has_value());
  local.ServiceBack();
  EXPECT_FALSE(local.without_service());
  EXPECT_FALSE(local.OnReport(held, kA, 5060, 408, wall_).has_value());
  local.ServiceLost(start_);
  auto d = local.OnReport(held, kA, 5060, 408, wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->primary().address(), kB);  // B's failure was forgotten.
}

TEST_F(LocalDecisionsTest, DeviceControlAfterTheDurationWithoutTheService) {
  LocalDecisions local(Profile(false), absl::Minutes(10));
  EXPECT_FALSE(local.DeviceControlDue().has_value());
  local.ServiceLost(start_);
  ASSERT_EQ(local.DeviceControlDue(), start_ + absl::Minutes(10));
  const v1::Decision held = Held();
  EXPECT_FALSE(
      local.OnTick(held, start_ + absl::Minutes(10) - absl::Seconds(1), wall_)
          .has_value());
  auto d = local.OnTick(held, start_ + absl::Minutes(10), wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(local.in_device_control());
  EXPECT_FALSE(local.DeviceControlDue().has_value());
  EXPECT_EQ(d->state(), v1::DECISION_STATE_DEVICE_CONTROL);
  EXPECT_EQ(d->assurance(), v1::ASSURANCE_UNSPECIFIED);
  EXPECT_EQ(d->version(), held.version());
  EXPECT_FALSE(d->has_primary());
  EXPECT_FALSE(d->has_secondary());
  EXPECT_TRUE(d->primary_fallback().empty());
  EXPECT_TRUE(d->secondary_fallback().empty());
  EXPECT_FALSE(d->has_keep_alive_target());
  EXPECT_FALSE(d->has_next_search_time());
  EXPECT_EQ(d->candidates_size(), 3);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(d->generated_at()),
            absl::ToUnixSeconds(wall_));
  EXPECT_EQ(d->reason(),
            "the service has been unreachable for 10m0s: control is back "
            "with the device's own resolution of itsp.example.com (S1-S10 on "
            "the device)");
  EXPECT_FALSE(local.OnTick(held, start_ + absl::Hours(1), wall_).has_value());
}

TEST_F(LocalDecisionsTest, DeviceControlDurationAsGoPrintsIt) {
  LocalDecisions local(Profile(false), absl::Seconds(90));
  local.ServiceLost(start_);
  auto d = local.OnTick(Held(), start_ + absl::Seconds(90), wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->reason().find("unreachable for 1m30s:"), std::string::npos)
      << d->reason();
}

TEST_F(LocalDecisionsTest, DeviceControlNeverWhenZero) {
  LocalDecisions local(Profile(false), absl::ZeroDuration());
  local.ServiceLost(start_);
  EXPECT_FALSE(local.DeviceControlDue().has_value());
  EXPECT_FALSE(local.OnTick(Held(), start_ + absl::Hours(100), wall_));
}

// Continuously: failed reconnects do not restart the count; the service's
// return does.
TEST_F(LocalDecisionsTest, DeviceControlCountsFromTheStartOfTheOutage) {
  LocalDecisions local(Profile(false), absl::Minutes(10));
  local.ServiceLost(start_);
  local.ServiceLost(start_ + absl::Minutes(5));
  EXPECT_EQ(local.DeviceControlDue(), start_ + absl::Minutes(10));
  local.ServiceBack();
  EXPECT_FALSE(local.DeviceControlDue().has_value());
  local.ServiceLost(start_ + absl::Minutes(6));
  EXPECT_EQ(local.DeviceControlDue(), start_ + absl::Minutes(16));
}

TEST_F(LocalDecisionsTest, InDeviceControlReportsMoveNothing) {
  LocalDecisions local(Profile(false), absl::Seconds(2));
  local.ServiceLost(start_);
  ASSERT_TRUE(local.OnTick(Held(), start_ + absl::Seconds(2), wall_));
  EXPECT_FALSE(local.OnReport(Held(), kA, 5060, 408, wall_).has_value());
  local.ServiceBack();
  EXPECT_FALSE(local.in_device_control());
}

// S3: the server a device in device control resolves.
TEST_F(LocalDecisionsTest, S3DeviceControlNamesTheOutboundProxyFirst) {
  v1::ItspProfile profile = Profile(false);
  profile.set_outbound_proxy("obp.example.com");
  LocalDecisions local(profile, absl::Seconds(2));
  local.ServiceLost(start_);
  auto d = local.OnTick(Held(), start_ + absl::Seconds(2), wall_);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->reason().find("resolution of obp.example.com "),
            std::string::npos)
      << d->reason();
}

TEST(RedundancyServerTest, S3OutboundProxyThenRegistrarThenProxyServer) {
  v1::ItspProfile p;
  p.set_proxy_server("proxy.test");
  p.set_proxy_server_port(5090);
  EXPECT_EQ(RedundancyServer(p).server, "proxy.test");
  EXPECT_EQ(RedundancyServer(p).port, 5090u);
  p.set_registrar_server("reg.test");
  EXPECT_EQ(RedundancyServer(p).server, "reg.test");
  EXPECT_EQ(RedundancyServer(p).port, 0u);
  p.set_outbound_proxy("obp.test");
  p.set_outbound_proxy_port(5070);
  EXPECT_EQ(RedundancyServer(p).server, "obp.test");
  EXPECT_EQ(RedundancyServer(p).port, 5070u);
}

TEST(DecisionSourceTest, Names) {
  EXPECT_STREQ(DecisionSourceName(DecisionSource::kService), "service");
  EXPECT_STREQ(DecisionSourceName(DecisionSource::kAgent), "agent");
}

}  // namespace
}  // namespace sipresolver::client
