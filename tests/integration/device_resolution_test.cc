// Device resolution rules R1-R4, S4, S5 end to end: DeviceResolver over the
// real c-ares transport against a real dnsmasq, checking both the candidates
// and, from dnsmasq's query log, which queries were (not) sent. The same
// rules over a fake transport: tests/unit/device_resolver_test.cc. Cache
// behaviour (TTL, negative caching, serve-stale, in-flight joins, failures):
// dns_cache_behaviour_test.cc.
#include <set>
#include <string>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/real_dns_stack.h"

namespace sipresolver::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// One zone for the rules. dnsmasq puts the addresses of SRV targets that
// have a host record in the additional section; alias.test has none (it is a
// CNAME), so SRV answers naming it carry no address for it.
DnsZone RulesZone() {
  DnsZone zone;
  zone.domain = "test";
  zone.ttl = 60;
  zone.hosts = {{"a-and-srv.test", {"192.0.2.1"}},
                {"multi.test", {"192.0.2.21", "192.0.2.22", "192.0.2.23"}},
                {"pbx1.test", {"192.0.2.11"}},
                {"pbx2.test", {"192.0.2.12"}},
                {"pbx3.test", {"192.0.2.13"}},
                {"pbx4.test", {"192.0.2.14"}},
                {"six.test", {"2001:db8::6"}},
                {"dual.test", {"192.0.2.31", "2001:db8::31"}}};
  zone.srv = {{"a-and-srv.test", "pbx1.test", 5070, 10, 0},
              {"srv.test", "pbx1.test", 5070, 10, 0},
              {"_sip._udp.srv.test", "pbx2.test", 5080, 10, 0},
              {"_sip._udp.udp.test", "pbx2.test", 5080, 10, 0},
              {"prio.test", "pbx3.test", 5063, 30, 5},
              {"prio.test", "pbx1.test", 5061, 10, 60},
              {"prio.test", "pbx2.test", 5062, 20, 0},
              {"prio.test", "pbx4.test", 5064, 10, 40},
              {"via-cname.test", "pbx1.test", 5071, 10, 0},
              {"via-cname.test", "alias.test", 5072, 20, 0},
              {"_sip._udp.none.test", ".", 0, 0, 0},
              {"dual-srv.test", "dual.test", 5090, 10, 0}};
  zone.cnames = {{"alias.test", "pbx2.test"}, {"alias2.test", "alias.test"}};
  return zone;
}

class DeviceResolutionTest : public RealDnsStackTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartStack(RulesZone())); }
};

TEST_F(DeviceResolutionTest, R1_ARecordWinsOverSrv) {
  Outcome r = Resolve("a-and-srv.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.1");
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kA);
  EXPECT_EQ(dnsmasq_->CountQueries("a-and-srv.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("a-and-srv.test", "SRV"), 0);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.a-and-srv.test", "SRV"), 0);
}

TEST_F(DeviceResolutionTest, R1_SrvOnBareNameBeforeSipUdp) {
  Outcome r = Resolve("srv.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.candidates[0].target, "pbx1.test");
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.11");
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kSrv);
  EXPECT_EQ(dnsmasq_->CountQueries("srv.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("srv.test", "SRV"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.srv.test", "SRV"), 0);
}

TEST_F(DeviceResolutionTest, R1_SipUdpSrvIsTheThirdStep) {
  Outcome r = Resolve("udp.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.12");
  EXPECT_EQ(r.resolution.candidates[0].port, 5080);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kSrvSipUdp);

  // The resolver's record of its steps...
  const auto& lookups = r.resolution.lookups;
  ASSERT_GE(lookups.size(), 3u) << Describe(r.resolution);
  EXPECT_EQ(std::tie(lookups[0].name, lookups[0].type),
            std::make_tuple(std::string("udp.test"), RecordType::kA));
  EXPECT_EQ(lookups[0].outcome, LookupOutcome::kNoData);
  EXPECT_EQ(std::tie(lookups[1].name, lookups[1].type),
            std::make_tuple(std::string("udp.test"), RecordType::kSrv));
  EXPECT_EQ(lookups[1].outcome, LookupOutcome::kNoData);
  EXPECT_EQ(
      std::tie(lookups[2].name, lookups[2].type),
      std::make_tuple(std::string("_sip._udp.udp.test"), RecordType::kSrv));
  EXPECT_EQ(lookups[2].outcome, LookupOutcome::kAnswer);

  // ...and what dnsmasq received, in that order, once each.
  const std::string log = dnsmasq_->ReadLog();
  const size_t a = log.find("query[A] udp.test from");
  const size_t srv = log.find("query[SRV] udp.test from");
  const size_t sip_udp = log.find("query[SRV] _sip._udp.udp.test from");
  ASSERT_NE(a, std::string::npos) << log;
  ASSERT_NE(srv, std::string::npos) << log;
  ASSERT_NE(sip_udp, std::string::npos) << log;
  EXPECT_LT(a, srv);
  EXPECT_LT(srv, sip_udp);
  EXPECT_EQ(dnsmasq_->CountQueries("udp.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("udp.test", "SRV"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.udp.test", "SRV"), 1);
}

TEST_F(DeviceResolutionTest, R1_NothingFoundIsNotFoundAfterThreeLookups) {
  Outcome r = Resolve("nothere.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound) << r.status;
  EXPECT_TRUE(r.resolution.candidates.empty());
  ASSERT_EQ(r.resolution.lookups.size(), 3u) << Describe(r.resolution);
  for (const auto& l : r.resolution.lookups) {
    EXPECT_EQ(l.outcome, LookupOutcome::kNxDomain) << l.name;
    EXPECT_FALSE(l.from_cache);
  }
  EXPECT_EQ(r.resolution.lookups[2].name, "_sip._udp.nothere.test");
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "SRV"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.nothere.test", "SRV"), 1);
}

TEST_F(DeviceResolutionTest, R2_SrvPortWinsAddressRecordsUseConfiguredPort) {
  Outcome r = Resolve(Spec("srv.test", 7000));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].port, 5070);  // From the SRV record.

  r = Resolve(Spec("a-and-srv.test", 7000));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].port, 7000);
  r = Resolve(Spec("a-and-srv.test"));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].port, 5060);

  ServerSpec tls = Spec("a-and-srv.test");
  tls.transport = dns::Transport::kTls;
  r = Resolve(tls);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].port, 5061);
  tls.server = "srv.test";  // TLS or not, the SRV port wins.
  r = Resolve(tls);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.resolution.candidates[0].port, 5070);
}

TEST_F(DeviceResolutionTest, R3_AddressRecordsShareOnePriority) {
  Outcome r = Resolve("multi.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution),
              UnorderedElementsAre("192.0.2.21", "192.0.2.22", "192.0.2.23"));
  for (const auto& c : r.resolution.candidates) {
    EXPECT_EQ(c.priority, 0) << c.address;
    EXPECT_EQ(c.weight, 0) << c.address;
    EXPECT_EQ(c.source, CandidateSource::kA) << c.address;
  }
}

TEST_F(DeviceResolutionTest, R3_SrvTargetsSortedByPriorityWithWeights) {
  Outcome r = Resolve("prio.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  const auto& c = r.resolution.candidates;
  ASSERT_EQ(c.size(), 4u) << Describe(r.resolution);
  // Within priority 10 the order is weighted-random; across priorities fixed.
  std::set<std::tuple<std::string, std::string, int, int, int>> first_two = {
      {c[0].target, c[0].address, c[0].port, c[0].priority, c[0].weight},
      {c[1].target, c[1].address, c[1].port, c[1].priority, c[1].weight}};
  EXPECT_THAT(first_two,
              UnorderedElementsAre(
                  std::make_tuple("pbx1.test", "192.0.2.11", 5061, 10, 60),
                  std::make_tuple("pbx4.test", "192.0.2.14", 5064, 10, 40)));
  EXPECT_EQ(std::tie(c[2].target, c[2].port, c[2].priority, c[2].weight),
            std::make_tuple(std::string("pbx2.test"), uint16_t{5062},
                            uint16_t{20}, uint16_t{0}));
  EXPECT_EQ(std::tie(c[3].target, c[3].port, c[3].priority, c[3].weight),
            std::make_tuple(std::string("pbx3.test"), uint16_t{5063},
                            uint16_t{30}, uint16_t{5}));
}

TEST_F(DeviceResolutionTest, R4_IpLiteralNeedsNoQuery) {
  Outcome r = Resolve(Spec("192.0.2.55", 0, /*redundancy=*/false));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.55");
  EXPECT_EQ(r.resolution.candidates[0].port, 5060);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kIpLiteral);
  EXPECT_TRUE(r.resolution.lookups.empty());

  r = Resolve(Spec("[2001:db8::55]", 5070, /*redundancy=*/false));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u);
  EXPECT_EQ(r.resolution.candidates[0].address, "2001:db8::55");
  EXPECT_EQ(r.resolution.candidates[0].port, 5070);
  EXPECT_EQ(QueriesOtherThanProbes(), 0) << dnsmasq_->ReadLog();
}

TEST_F(DeviceResolutionTest, S5_IpLiteralWithRedundancyIsInvalid) {
  Outcome r = Resolve(Spec("192.0.2.55", 0, /*redundancy=*/true));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  EXPECT_TRUE(r.resolution.candidates.empty());
  EXPECT_EQ(QueriesOtherThanProbes(), 0) << dnsmasq_->ReadLog();
}

TEST_F(DeviceResolutionTest, S4_WithoutRedundancyOnlyOneCandidate) {
  Outcome r = Resolve(Spec("multi.test", 0, /*redundancy=*/false));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_THAT(r.resolution.candidates[0].address,
              ::testing::AnyOf("192.0.2.21", "192.0.2.22", "192.0.2.23"));

  r = Resolve(Spec("prio.test", 0, /*redundancy=*/false));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.candidates[0].priority, 10);  // The best priority.
}

TEST_F(DeviceResolutionTest,
       SrvTargetAddressesFromAdditionalSectionOrOwnQuery) {
  Outcome r = Resolve("via-cname.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  const auto& c = r.resolution.candidates;
  ASSERT_EQ(c.size(), 2u) << Describe(r.resolution);
  // pbx1.test has a host record: its address came with the SRV answer.
  EXPECT_EQ(std::tie(c[0].target, c[0].address, c[0].port),
            std::make_tuple(std::string("pbx1.test"), std::string("192.0.2.11"),
                            uint16_t{5071}));
  EXPECT_EQ(dnsmasq_->CountQueries("pbx1.test", "A"), 0);
  // alias.test is a CNAME to pbx2.test: not in the additional section, so it
  // was asked for, and the CNAME chain resolved it.
  EXPECT_EQ(std::tie(c[1].target, c[1].address, c[1].port),
            std::make_tuple(std::string("alias.test"),
                            std::string("192.0.2.12"), uint16_t{5072}));
  EXPECT_EQ(dnsmasq_->CountQueries("alias.test", "A"), 1);
  bool from_additional = false;
  for (const auto& l : r.resolution.lookups) {
    if (l.name == "pbx1.test") {
      from_additional = absl::StrContains(l.detail, "additional section");
    }
  }
  EXPECT_TRUE(from_additional) << Describe(r.resolution);
}

TEST_F(DeviceResolutionTest, CnameChainResolvesToTheAddresses) {
  for (const std::string name : {"alias.test", "alias2.test"}) {
    Outcome r = Resolve(name);
    ASSERT_TRUE(r.status.ok()) << name << ": " << r.status;
    ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
    EXPECT_EQ(r.resolution.candidates[0].address, "192.0.2.12");
    EXPECT_EQ(r.resolution.candidates[0].target, name);
    EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kA);
    EXPECT_TRUE(absl::StrContains(r.resolution.lookups[0].detail, "pbx2.test"))
        << Describe(r.resolution);
    // dnsmasq answered the whole chain: no query for the target itself.
    EXPECT_EQ(dnsmasq_->CountQueries(name, "SRV"), 0);
  }
  EXPECT_EQ(dnsmasq_->CountQueries("pbx2.test", "A"), 0);
}

TEST_F(DeviceResolutionTest, SrvTargetDotIsNotFoundWithNoService) {
  Outcome r = Resolve("none.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound) << r.status;
  EXPECT_TRUE(r.resolution.candidates.empty());
  ASSERT_EQ(r.resolution.lookups.size(), 3u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.lookups[2].name, "_sip._udp.none.test");
  EXPECT_EQ(r.resolution.lookups[2].outcome, LookupOutcome::kNoService);
}

TEST_F(DeviceResolutionTest, Ipv6ProfileGetsAaaaCandidates) {
  ServerSpec spec = Spec("six.test");
  spec.ip_version = IpVersion::kV6;
  Outcome r = Resolve(spec);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.candidates[0].address, "2001:db8::6");
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kAaaa);
  EXPECT_EQ(dnsmasq_->CountQueries("six.test", "AAAA"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("six.test", "A"), 0);
}

TEST_F(DeviceResolutionTest, DualStackListsIpv4ThenIpv6) {
  ServerSpec spec = Spec("dual.test");
  spec.ip_version = IpVersion::kDual;
  Outcome r = Resolve(spec);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution),
              ElementsAre("192.0.2.31", "2001:db8::31"));
  ASSERT_EQ(r.resolution.candidates.size(), 2u);
  EXPECT_EQ(r.resolution.candidates[0].source, CandidateSource::kA);
  EXPECT_EQ(r.resolution.candidates[1].source, CandidateSource::kAaaa);

  // An SRV target's A and AAAA both come from the additional section.
  spec.server = "dual-srv.test";
  r = Resolve(spec);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution),
              ElementsAre("192.0.2.31", "2001:db8::31"));
  EXPECT_EQ(dnsmasq_->CountQueries("dual.test", "A"), 1);  // The first resolve.
  EXPECT_EQ(dnsmasq_->CountQueries("dual.test", "AAAA"), 1);
}

// 40 SRV records with their addresses do not fit in 512 bytes: dnsmasq sets
// TC and c-ares asks again over TCP. At most kMaxSrvTargets targets are used.
TEST_F(DeviceResolutionTest, LargeSrvAnswerIsFetchedOverTcp) {
  DnsZone zone = RulesZone();
  for (int i = 0; i < 40; ++i) {
    const std::string target = absl::StrCat("big", i, ".test");
    zone.hosts.push_back({target, {absl::StrCat("198.51.100.", i + 1)}});
    zone.srv.push_back({"big.test", target, 5060, static_cast<uint16_t>(i), 1});
  }
  ASSERT_TRUE(dnsmasq_->Restart(zone).ok());
  Outcome r = Resolve("big.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.resolution.candidates.size(), size_t{dns::kMaxSrvTargets})
      << Describe(r.resolution);
  for (int i = 0; i < dns::kMaxSrvTargets; ++i) {
    EXPECT_EQ(r.resolution.candidates[i].priority, i);
    EXPECT_EQ(r.resolution.candidates[i].address,
              absl::StrCat("198.51.100.", i + 1));
  }
  EXPECT_EQ(dnsmasq_->CountQueries("big.test", "SRV"), 2);  // UDP, then TCP.
  EXPECT_EQ(dnsmasq_->CountQueries("big0.test", "A"), 0);
}

// dnsmasq's auth mode follows only one CNAME: alias2 -> alias is answered
// without the rest, so the resolver must follow the dangling CNAME itself.
TEST_F(DeviceResolutionTest, DanglingCnameIsFollowedWithItsOwnQuery) {
  DnsZone zone = RulesZone();
  zone.authoritative = true;
  ASSERT_TRUE(dnsmasq_->Restart(zone).ok());
  Outcome r = Resolve("alias2.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.12"))
      << Describe(r.resolution);
  EXPECT_EQ(r.resolution.lookups[0].type, RecordType::kCname);
  EXPECT_EQ(dnsmasq_->CountQueries("alias2.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("alias.test", "A"), 1);
}

}  // namespace
}  // namespace sipresolver::testing
