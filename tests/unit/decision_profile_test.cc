// Profile validation, the redundancy target (S3), when redundancy applies
// (S1/S4/S5) and the profile key that lets identical profiles share a watcher.
#include "gtest/gtest.h"
#include "lib/decision/profile.h"

namespace sipresolver::decision {
namespace {

Profile Typical() {
  Profile p;
  p.proxy_server = "itsp.test";
  p.proxy_server_redundancy = true;
  return p;
}

void ExpectInvalid(const Profile& p, const std::string& field) {
  absl::Status s = ValidateProfile(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_EQ(s.message().substr(0, field.size() + 1), field + ":")
      << s.message();
}

TEST(ProfileTest, TypicalProfileIsValid) {
  EXPECT_TRUE(ValidateProfile(Typical()).ok());
  Profile p = Typical();
  p.registrar_server = "reg.itsp.test.";
  p.outbound_proxy = "[2001:db8::1]";
  p.keep_alive_server = "192.0.2.9";
  p.proxy_server_port = 65535;
  EXPECT_TRUE(ValidateProfile(p).ok());
}

TEST(ProfileTest, EmptyProxyServerIsInvalid) {
  Profile p = Typical();
  p.proxy_server.clear();
  ExpectInvalid(p, "proxy_server");
}

TEST(ProfileTest, PortsAbove65535AreInvalidAndNamed) {
  for (auto [field, member] :
       {std::pair{"proxy_server_port", &Profile::proxy_server_port},
        std::pair{"registrar_server_port", &Profile::registrar_server_port},
        std::pair{"outbound_proxy_port", &Profile::outbound_proxy_port},
        std::pair{"keep_alive_port", &Profile::keep_alive_port}}) {
    Profile p = Typical();
    p.*member = 65536;
    ExpectInvalid(p, field);
  }
}

TEST(ProfileTest, BadNamesAreInvalidAndNamed) {
  for (auto [field, member] :
       {std::pair{"proxy_server", &Profile::proxy_server},
        std::pair{"registrar_server", &Profile::registrar_server},
        std::pair{"outbound_proxy", &Profile::outbound_proxy},
        std::pair{"keep_alive_server", &Profile::keep_alive_server}}) {
    for (const char* bad : {"-bad.test", "a..b", "sp ace.test", "x/y"}) {
      Profile p = Typical();
      p.*member = bad;
      ExpectInvalid(p, field);
    }
  }
}

TEST(ProfileTest, CheckIntervalsOutsideOneSecondToOneDayAreInvalid) {
  for (absl::Duration d :
       {absl::ZeroDuration(), absl::Seconds(-5), absl::Milliseconds(999),
        absl::Hours(24) + absl::Seconds(1)}) {
    Profile p = Typical();
    p.check_primary_fallback_interval = d;
    ExpectInvalid(p, "check_primary_fallback_interval");
    p = Typical();
    p.check_secondary_fallback_interval = d;
    ExpectInvalid(p, "check_secondary_fallback_interval");
  }
  Profile p = Typical();
  p.check_primary_fallback_interval = absl::Seconds(1);
  p.check_secondary_fallback_interval = absl::Hours(24);
  EXPECT_TRUE(ValidateProfile(p).ok());
}

TEST(ProfileTest, S5_RedundancyWithAnIpLiteralIsValidButDoesNotApply) {
  Profile p = Typical();
  p.proxy_server = "192.0.2.1";
  EXPECT_TRUE(ValidateProfile(p).ok());
  EXPECT_FALSE(RedundancyApplies(p));
}

TEST(ProfileTest, S3_TargetIsTheOutboundProxyWhenSet) {
  Profile p = Typical();
  p.registrar_server = "reg.itsp.test";
  p.registrar_server_port = 5070;
  p.outbound_proxy = "OBP.itsp.test.";
  p.outbound_proxy_port = 5080;
  const RedundancyTarget t = TargetOf(p);
  EXPECT_EQ(t.server, "obp.itsp.test");
  EXPECT_EQ(t.port, 5080u);
}

TEST(ProfileTest, S3_TargetIsTheRegistrarServerElseTheProxyServer) {
  Profile p = Typical();
  p.proxy_server_port = 5062;
  EXPECT_EQ(TargetOf(p).server, "itsp.test");
  EXPECT_EQ(TargetOf(p).port, 5062u);  // The registrar is the proxy.
  p.registrar_server_port = 5070;
  EXPECT_EQ(TargetOf(p).port, 5070u);
  p.registrar_server = "reg.itsp.test";
  p.registrar_server_port = 0;
  EXPECT_EQ(TargetOf(p).server, "reg.itsp.test");
  EXPECT_EQ(TargetOf(p).port, 0u);  // Its own port: the default.
}

TEST(ProfileTest, S1_S4_S5_WhenRedundancyApplies) {
  Profile p = Typical();
  EXPECT_TRUE(RedundancyApplies(p));
  p.proxy_server_redundancy = false;
  EXPECT_FALSE(RedundancyApplies(p));  // S4: off by default.
  EXPECT_FALSE(RedundancyApplies(Profile{}));
  p = Typical();
  p.registration_enabled = false;
  EXPECT_FALSE(RedundancyApplies(p));  // S1.
  p = Typical();
  p.outbound_proxy = "[2001:db8::5]";
  EXPECT_FALSE(RedundancyApplies(p));  // S5 on the S3 target.
  p = Typical();
  p.proxy_server = "192.0.2.1";
  p.outbound_proxy = "obp.itsp.test";
  EXPECT_TRUE(RedundancyApplies(p));  // The target is a name.
}

TEST(ProfileTest,
     ProfileKeyIsEqualForProfilesThatAreTheSameAfterNormalisation) {
  Profile a = Typical();
  Profile b = Typical();
  b.proxy_server = "ITSP.Test.";
  b.proxy_server_port = 5060;            // The UDP default.
  b.keep_alive_server = "ignored.test";  // Keep-alive is off.
  EXPECT_EQ(ProfileKey(a), ProfileKey(b));
  a.proxy_server_redundancy = false;
  b.proxy_server_redundancy = false;
  b.secondary_registration = true;  // No effect without redundancy.
  b.check_primary_fallback_interval = absl::Seconds(5);
  EXPECT_EQ(ProfileKey(a), ProfileKey(b));
}

TEST(ProfileTest, ProfileKeyDiffersWhenTheDecisionCouldDiffer) {
  const std::string base = ProfileKey(Typical());
  std::vector<Profile> changed(8, Typical());
  changed[0].proxy_server = "other.test";
  changed[1].transport = Transport::kTls;
  changed[2].secondary_registration = true;
  changed[3].check_primary_fallback_interval = absl::Seconds(30);
  changed[4].keep_alive_enable = true;
  changed[5].outbound_proxy = "obp.itsp.test";
  changed[6].ip_version = dns::IpVersion::kDual;
  changed[7].registration_enabled = false;
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_NE(ProfileKey(changed[i]), base) << i;
  }
  Profile k1 = Typical(), k2 = Typical();
  k1.keep_alive_enable = k2.keep_alive_enable = true;
  k2.keep_alive_server = "stun.test";
  EXPECT_NE(ProfileKey(k1), ProfileKey(k2));
}

}  // namespace
}  // namespace sipresolver::decision
