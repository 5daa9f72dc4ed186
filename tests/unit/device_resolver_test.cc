// Device resolution rules R1-R4, S4, S5 on a fake DNS transport.
#include "lib/dns/device_resolver.h"

#include "gtest/gtest.h"
#include "tests/support/fake_dns_transport.h"
#include "tests/support/fake_random.h"

namespace sipresolver::dns {
namespace {

using testing::AddressAnswer;
using testing::CnameAnswer;
using testing::FakeDnsTransport;
using testing::NoData;
using testing::SrvAnswer;

constexpr RecordType kA = RecordType::kA;
constexpr RecordType kAaaa = RecordType::kAaaa;
constexpr RecordType kSrv = RecordType::kSrv;

SrvRecord Srv(const std::string& target, uint16_t port, uint16_t priority,
              uint16_t weight = 0, uint32_t ttl = 300) {
  return SrvRecord{target, priority, weight, port, ttl};
}

class DeviceResolverTest : public ::testing::Test {
 protected:
  struct Result {
    absl::Status status;
    Resolution resolution;
  };

  Result Resolve(ServerSpec spec) {
    Result out;
    bool called = false;
    resolver_.Resolve(spec, [&](absl::Status s, Resolution r) {
      out = Result{std::move(s), std::move(r)};
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }
  static ServerSpec Spec(const std::string& server, uint32_t port = 0,
                         bool redundancy = true) {
    ServerSpec spec;
    spec.server = server;
    spec.port = port;
    spec.redundancy = redundancy;
    return spec;
  }

  FakeDnsTransport transport_;
  SimulatedClock clock_;
  CachingResolver dns_{transport_, clock_, CacheLimits{}, nullptr};
  testing::FakeRandom random_;
  DeviceResolver resolver_{dns_, random_};
};

TEST_F(DeviceResolverTest, R1_AddressRecordWinsOverSrv) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1", "192.0.2.2"}, 60));
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("x.test", 5070, 1)}));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 2u);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kA);
  EXPECT_EQ(transport_.count("sip.test", kSrv), 0);  // Never asked.
}

TEST_F(DeviceResolverTest, R1_SrvOnBareNameBeforeSipUdp) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("pbx.test", 5070, 1)}));
  transport_.Set("_sip._udp.sip.test", kSrv,
                 SrvAnswer("_sip._udp.sip.test", {Srv("other.test", 5080, 1)}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"192.0.2.10"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kSrv);
  EXPECT_EQ(r.resolution.candidates[0].target, "pbx.test");
  EXPECT_EQ(transport_.count("_sip._udp.sip.test", kSrv), 0);
  // Order of the steps: A, then SRV on the bare name, then its target.
  EXPECT_EQ(transport_.log()[0], std::make_pair(std::string("sip.test"), kA));
  EXPECT_EQ(transport_.log()[1], std::make_pair(std::string("sip.test"), kSrv));
}

TEST_F(DeviceResolverTest, R1_SipUdpSrvIsTheLastStep) {
  transport_.Set("_sip._udp.sip.test", kSrv,
                 SrvAnswer("_sip._udp.sip.test", {Srv("pbx.test", 5070, 1)}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"192.0.2.10"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kSrvSipUdp);
  ASSERT_EQ(r.resolution.lookups.size(), 4u);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kNxDomain);
  EXPECT_EQ(r.resolution.lookups[2].name, "_sip._udp.sip.test");
}

TEST_F(DeviceResolverTest, R1_NothingFoundFailsWithTheLookupsTried) {
  transport_.Set("sip.test", kA, NoData("sip.test", kA));
  Result r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(r.resolution.lookups.size(), 3u);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kNoData);
  EXPECT_EQ(r.resolution.lookups[1].type, kSrv);
  EXPECT_EQ(r.resolution.lookups[2].name, "_sip._udp.sip.test");
  EXPECT_TRUE(r.resolution.candidates.empty());
}

TEST_F(DeviceResolverTest, R2_SrvPortOverridesConfiguredPort) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("pbx.test", 5070, 1)}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"192.0.2.10"}, 60));
  Result r = Resolve(Spec("sip.test", /*port=*/5999));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.resolution.candidates[0].port, 5070);
}

TEST_F(DeviceResolverTest, R2_AddressRecordsUseConfiguredPortElse5060) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1"}, 60));
  EXPECT_EQ(Resolve(Spec("sip.test", 5999)).resolution.candidates[0].port,
            5999);
  EXPECT_EQ(Resolve(Spec("sip.test")).resolution.candidates[0].port, 5060);
  ServerSpec tls = Spec("sip.test");
  tls.transport = Transport::kTls;
  EXPECT_EQ(Resolve(tls).resolution.candidates[0].port, 5061);
}

TEST_F(DeviceResolverTest, R3_AddressRecordsShareOnePriority) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA,
                               {"192.0.2.1", "192.0.2.2", "192.0.2.3"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_EQ(r.resolution.candidates.size(), 3u);
  for (const Candidate& c : r.resolution.candidates) {
    EXPECT_EQ(c.priority, 0);
    EXPECT_EQ(c.weight, 0);
  }
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.1");  // Answer order.
}

TEST_F(DeviceResolverTest, R3_SrvTargetsKeepTheirPriorityAndWeight) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("b.test", 5060, 20, 5),
                                        Srv("a.test", 5060, 10, 7)}));
  transport_.Set("a.test", kA, AddressAnswer("a.test", kA, {"192.0.2.1"}, 60));
  transport_.Set("b.test", kA,
                 AddressAnswer("b.test", kA, {"192.0.2.2", "192.0.2.3"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.resolution.candidates.size(), 3u);
  EXPECT_EQ(r.resolution.candidates[0].target, "a.test");
  EXPECT_EQ(r.resolution.candidates[0].priority, 10);
  EXPECT_EQ(r.resolution.candidates[0].weight, 7);
  EXPECT_EQ(r.resolution.candidates[1].address, "192.0.2.2");
  EXPECT_EQ(r.resolution.candidates[2].priority, 20);
}

TEST_F(DeviceResolverTest, R4_IpLiteralNeedsNoLookup) {
  Result r = Resolve(Spec("192.0.2.7", 5080, /*redundancy=*/false));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.7");
  EXPECT_EQ(r.resolution.candidates[0].port, 5080);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kIpLiteral);
  EXPECT_EQ(transport_.total(), 0);
  EXPECT_EQ(
      Resolve(Spec("[2001:db8::5]", 0, false)).resolution.candidates[0].address,
      "2001:db8::5");
}

TEST_F(DeviceResolverTest, S5_RedundancyWithIpLiteralIsInvalid) {
  Result r = Resolve(Spec("192.0.2.7", 0, /*redundancy=*/true));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("redundancy"), std::string::npos);
  EXPECT_NE(r.status.message().find("S5"), std::string::npos);
}

TEST_F(DeviceResolverTest, S4_WithoutRedundancyOnlyOneAddress) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1", "192.0.2.2"}, 60));
  Result r = Resolve(Spec("sip.test", 0, /*redundancy=*/false));
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.1");
}

TEST_F(DeviceResolverTest, SrvTargetAddressesFromAdditionalSectionNeedNoQuery) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("pbx.test", 5070, 1, 0, 100)},
                           {{"pbx.test", "192.0.2.10", 50}}));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.10");
  EXPECT_EQ(r.resolution.candidates[0].ttl, absl::Seconds(50));
  EXPECT_EQ(transport_.count("pbx.test", kA), 0);
}

// R3, S11: an address from the additional section lives by its own TTL,
// not the SRV answer's: it counts down, and once over, the target is looked
// up again (rg 40 SRV -> rgt, rgt 6 A, as BIND sends it).
TEST_F(DeviceResolverTest, R3_AdditionalAddressesExpireAtTheirOwnTtl) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("pbx.test", 7100, 10, 10, 40)},
                           {{"pbx.test", "10.77.3.1", 6}}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"10.77.3.2"}, 6));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].ttl, absl::Seconds(6));

  clock_.Advance(absl::Seconds(4));  // The SRV answer is cached for 40 s.
  r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.resolution.candidates[0].address, "10.77.3.1");
  EXPECT_EQ(r.resolution.candidates[0].ttl, absl::Seconds(2));  // Counts down.
  EXPECT_EQ(transport_.count("pbx.test", kA), 0);

  clock_.Advance(absl::Seconds(2));  // The address's own TTL is over.
  r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].address, "10.77.3.2");
  EXPECT_EQ(transport_.count("pbx.test", kA), 1);
  EXPECT_EQ(transport_.count("sip.test", kSrv), 1);  // Still from the cache.
}

TEST_F(DeviceResolverTest, SrvTargetDotMeansNoService) {
  transport_.Set("sip.test", kSrv, SrvAnswer("sip.test", {Srv(".", 0, 0)}));
  Result r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.resolution.lookups.back().outcome, LookupOutcome::kNoService);
  EXPECT_EQ(transport_.count("_sip._udp.sip.test", kSrv), 0);
}

TEST_F(DeviceResolverTest, SrvTargetsWithoutAddressesAreNotFound) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("gone.test", 5060, 1)}));
  Result r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
}

TEST_F(DeviceResolverTest, UnresolvableTargetIsSkippedOthersKept) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("gone.test", 5060, 1),
                                        Srv("pbx.test", 5060, 2)}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"192.0.2.10"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].target, "pbx.test");
}

TEST_F(DeviceResolverTest, CandidateTtlIsTheSmallestOfSrvAndAddress) {
  transport_.Set("sip.test", kSrv,
                 SrvAnswer("sip.test", {Srv("pbx.test", 5060, 1, 0, 30)}));
  transport_.Set("pbx.test", kA,
                 AddressAnswer("pbx.test", kA, {"192.0.2.10"}, 600));
  EXPECT_EQ(Resolve(Spec("sip.test")).resolution.candidates[0].ttl,
            absl::Seconds(30));
}

TEST_F(DeviceResolverTest, CachedAnswersReportRemainingTtl) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1"}, 60));
  Resolve(Spec("sip.test"));
  clock_.Advance(absl::Seconds(15));
  Result r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.resolution.candidates[0].ttl, absl::Seconds(45));
  EXPECT_TRUE(r.resolution.lookups[0].from_cache);
  EXPECT_EQ(transport_.total(), 1);
}

TEST_F(DeviceResolverTest, DanglingCnameIsFollowed) {
  transport_.Set("sip.test", kA, CnameAnswer("sip.test", kA, "real.test", 120));
  transport_.Set("real.test", kA,
                 AddressAnswer("real.test", kA, {"192.0.2.20"}, 60));
  Result r = Resolve(Spec("sip.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.20");
  EXPECT_EQ(r.resolution.candidates[0].target, "sip.test");
  EXPECT_EQ(r.resolution.lookups[0].type, RecordType::kCname);
}

TEST_F(DeviceResolverTest, CnameLoopStopsAfterTheLimit) {
  transport_.Set("a.test", kA, CnameAnswer("a.test", kA, "b.test", 60));
  transport_.Set("b.test", kA, CnameAnswer("b.test", kA, "a.test", 60));
  Result r = Resolve(Spec("a.test"));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  // Each name is asked once; later rounds come from the cache.
  EXPECT_EQ(transport_.count("a.test", kA), 1);
  EXPECT_EQ(transport_.count("b.test", kA), 1);
}

TEST_F(DeviceResolverTest, Ipv6ProfileAsksForAaaa) {
  transport_.Set("sip.test", kAaaa,
                 AddressAnswer("sip.test", kAaaa, {"2001:db8::1"}, 60));
  ServerSpec spec = Spec("sip.test");
  spec.ip_version = IpVersion::kV6;
  Result r = Resolve(spec);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kAaaa);
  EXPECT_EQ(transport_.count("sip.test", kA), 0);
}

TEST_F(DeviceResolverTest, DualStackListsIpv4First) {
  transport_.Set("sip.test", kAaaa,
                 AddressAnswer("sip.test", kAaaa, {"2001:db8::1"}, 60));
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1"}, 60));
  ServerSpec spec = Spec("sip.test");
  spec.ip_version = IpVersion::kDual;
  Result r = Resolve(spec);
  ASSERT_EQ(r.resolution.candidates.size(), 2u);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.1");
  EXPECT_EQ(r.resolution.candidates[1].address, "2001:db8::1");
}

TEST_F(DeviceResolverTest, DnsFailureIsUnavailableNotAFallThrough) {
  transport_.Set("sip.test", kA, absl::DeadlineExceededError("timeout"));
  Result r = Resolve(Spec("sip.test"));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport_.count("sip.test", kSrv), 0);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kUnavailable);
}

TEST_F(DeviceResolverTest, NamesAreNormalised) {
  transport_.Set("sip.test", kA,
                 AddressAnswer("sip.test", kA, {"192.0.2.1"}, 60));
  Result r = Resolve(Spec("SIP.Test."));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.resolution.candidates[0].target, "sip.test");
}

TEST_F(DeviceResolverTest, InvalidInputNamesTheField) {
  EXPECT_EQ(Resolve(Spec("")).status.message(), "server: must not be empty");
  Result bad_port = Resolve(Spec("sip.test", 70000));
  EXPECT_EQ(bad_port.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_port.status.message().find("port"), std::string::npos);
  Result bad_name = Resolve(Spec("bad name.test"));
  EXPECT_EQ(bad_name.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.status.message().find("server:"), std::string::npos);
  EXPECT_EQ(transport_.total(), 0);
}

}  // namespace
}  // namespace sipresolver::dns
