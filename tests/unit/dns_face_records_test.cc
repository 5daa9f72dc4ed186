// FaceRecords and RankForDns: what the DNS face publishes for a decision.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/dns_face/face_records.h"

namespace sipresolver::server::dns_face {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

FaceConfig OneName(bool srv = true, bool address = false) {
  auto config = ParseFaceConfig(R"({"zones":[{"zone":"Fleet.Example",
    "nameservers":["ns1.fleet.example","ns2.fleet.example"],
    "names":[{"name":"acme","profile":{"proxyServer":"itsp.example",
              "proxyServerRedundancy":true}}]}]})");
  EXPECT_TRUE(config.ok()) << config.status();
  config->zones[0].names[0].publish_srv = srv;
  config->zones[0].names[0].publish_address = address;
  return *config;
}

v1::Candidate Server(const std::string& address, v1::HealthState health,
                     uint32_t port = 5060) {
  v1::Candidate c;
  c.set_target("sip.itsp.example");
  c.set_address(address);
  c.set_port(port);
  c.mutable_health()->set_state(health);
  return c;
}

// Three servers in device order; the second is the primary, the third the
// secondary, the first fails.
v1::Decision Active() {
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_PROBES);
  *d.add_candidates() = Server("192.0.2.1", v1::HEALTH_STATE_UNHEALTHY);
  *d.add_candidates() = Server("192.0.2.2", v1::HEALTH_STATE_HEALTHY);
  *d.add_candidates() = Server("2001:db8::3", v1::HEALTH_STATE_HEALTHY);
  *d.mutable_primary() = d.candidates(1);
  return d;
}

std::vector<std::string> Addresses(const std::vector<const v1::Candidate*>& c) {
  std::vector<std::string> out;
  for (const v1::Candidate* x : c) out.push_back(x->address());
  return out;
}

TEST(RankForDns, ConfirmedDecisionPutsPrimarySecondaryAndHealthyFirst) {
  v1::Decision d = Active();
  *d.add_candidates() = Server("192.0.2.4", v1::HEALTH_STATE_HEALTHY);
  *d.mutable_secondary() = d.candidates(3);
  EXPECT_THAT(
      Addresses(RankForDns(d)),
      ElementsAre("192.0.2.2", "192.0.2.4", "2001:db8::3", "192.0.2.1"));
}

TEST(RankForDns, FailStaticKeepsTheDevicesOrderWhenUnconfirmed) {
  v1::Decision d = Active();
  d.set_assurance(v1::ASSURANCE_UNCONFIRMED);
  EXPECT_THAT(Addresses(RankForDns(d)),
              ElementsAre("192.0.2.1", "192.0.2.2", "2001:db8::3"));
  d.set_state(v1::DECISION_STATE_NO_WORKING_SERVER);
  d.clear_primary();
  EXPECT_THAT(Addresses(RankForDns(d)),
              ElementsAre("192.0.2.1", "192.0.2.2", "2001:db8::3"));
}

TEST(RankForDns, OneEntryPerEndpoint) {
  v1::Decision d = Active();
  *d.add_candidates() = Server("192.0.2.2", v1::HEALTH_STATE_HEALTHY);  // Dup.
  *d.add_candidates() = Server("192.0.2.2", v1::HEALTH_STATE_HEALTHY, 5080);
  EXPECT_EQ(RankForDns(d).size(), 4u);
}

TEST(TargetLabel, NamesTheAddress) {
  EXPECT_EQ(TargetLabel("192.0.2.1"), "v4-192-0-2-1");
  EXPECT_EQ(TargetLabel("2001:db8::1"), "v6-20010db8000000000000000000000001");
  EXPECT_EQ(TargetLabel("sip.example"), "");
}

TEST(FaceRecords, ApexHasSoaAndNameservers) {
  FaceRecords records(OneName());
  auto soa = records.Lookup("FLEET.example", "SOA");
  ASSERT_TRUE(soa.ok());
  EXPECT_THAT(*soa, ElementsAre(Record{"fleet.example.", "SOA",
                                       "ns1.fleet.example. "
                                       "hostmaster.fleet.example. 1 3600 600 "
                                       "86400 5",
                                       5}));
  auto any = records.Lookup("fleet.example.", "ANY");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->size(), 3u);
}

TEST(FaceRecords, BeforeAnyServerIsKnownTheNameIsUnavailable) {
  FaceRecords records(OneName());
  EXPECT_TRUE(absl::IsUnavailable(
      records.Lookup("_sip._udp.acme.fleet.example.", "ANY").status()));
  records.SetDecision(0, 0, v1::Decision());  // Searching, no candidates.
  EXPECT_TRUE(absl::IsUnavailable(
      records.Lookup("_sip._udp.acme.fleet.example.", "SRV").status()));
}

TEST(FaceRecords, SrvListsEveryServerRankedWithTargetsUnderTheName) {
  FaceRecords records(OneName());
  records.SetDecision(0, 0, Active());
  auto srv = records.Lookup("_sip._udp.acme.fleet.example.", "ANY");
  ASSERT_TRUE(srv.ok()) << srv.status();
  const std::string name = "_sip._udp.acme.fleet.example.";
  EXPECT_THAT(
      *srv,
      ElementsAre(
          Record{name, "SRV", "10 0 5060 v4-192-0-2-2.acme.fleet.example.", 5},
          Record{name, "SRV",
                 "20 0 5060 v6-20010db8000000000000000000000003.acme.fleet."
                 "example.",
                 5},
          Record{name, "SRV", "30 0 5060 v4-192-0-2-1.acme.fleet.example.",
                 5}));
  EXPECT_THAT(*records.Lookup("v4-192-0-2-2.acme.fleet.example.", "ANY"),
              ElementsAre(Record{"v4-192-0-2-2.acme.fleet.example.", "A",
                                 "192.0.2.2", 5}));
  EXPECT_THAT(
      *records.Lookup("v6-20010db8000000000000000000000003.acme.fleet.example.",
                      "AAAA"),
      ElementsAre(
          Record{"v6-20010db8000000000000000000000003.acme.fleet.example.",
                 "AAAA", "2001:db8::3", 5}));
  // A target that is no candidate does not exist.
  EXPECT_TRUE(absl::IsNotFound(
      records.Lookup("v4-192-0-2-9.acme.fleet.example.", "A").status()));
}

TEST(FaceRecords, AHealthChangeReordersTheAnswer) {
  FaceRecords records(OneName());
  records.SetDecision(0, 0, Active());
  v1::Decision moved = Active();
  moved.mutable_candidates(1)->mutable_health()->set_state(
      v1::HEALTH_STATE_UNHEALTHY);
  *moved.mutable_primary() = moved.candidates(2);
  records.SetDecision(0, 0, moved);
  auto srv = records.Lookup("_sip._udp.acme.fleet.example.", "SRV");
  ASSERT_TRUE(srv.ok());
  ASSERT_EQ(srv->size(), 3u);
  EXPECT_EQ(
      (*srv)[0].content,
      "10 0 5060 v6-20010db8000000000000000000000003.acme.fleet.example.");
}

TEST(FaceRecords, HealthChangesOutsideTheDecisionReorderTheRest) {
  FaceRecords records(OneName());
  // Three servers in device order, the first the primary; the decision
  // carries no health for the others.
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_PROBES);
  for (const char* a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    *d.add_candidates() = Server(a, v1::HEALTH_STATE_UNSPECIFIED);
  }
  *d.mutable_primary() = d.candidates(0);
  records.SetDecision(0, 0, d);
  auto order = [&] {
    std::vector<std::string> out;
    auto srv = records.Lookup("_sip._udp.acme.fleet.example.", "SRV");
    for (const Record& r : *srv) {
      out.push_back(r.content.substr(r.content.rfind(' ') + 1));
    }
    return out;
  };
  EXPECT_THAT(order(), ElementsAre("v4-192-0-2-1.acme.fleet.example.",
                                   "v4-192-0-2-2.acme.fleet.example.",
                                   "v4-192-0-2-3.acme.fleet.example."));
  records.SetHealth("192.0.2.3", 5060, v1::TRANSPORT_UDP,
                    v1::HEALTH_STATE_HEALTHY);
  records.SetHealth("192.0.2.2", 5060, v1::TRANSPORT_UDP,
                    v1::HEALTH_STATE_UNHEALTHY);
  EXPECT_THAT(order(), ElementsAre("v4-192-0-2-1.acme.fleet.example.",
                                   "v4-192-0-2-3.acme.fleet.example.",
                                   "v4-192-0-2-2.acme.fleet.example."));
  // Another transport's, or another port's, health is not this name's.
  records.SetHealth("192.0.2.2", 5060, v1::TRANSPORT_TCP,
                    v1::HEALTH_STATE_HEALTHY);
  records.SetHealth("192.0.2.2", 5061, v1::TRANSPORT_UDP,
                    v1::HEALTH_STATE_HEALTHY);
  EXPECT_EQ(order()[1], "v4-192-0-2-3.acme.fleet.example.");
}

TEST(FaceRecords, ADecisionWithoutServersKeepsTheLastAnswer) {
  FaceRecords records(OneName());
  records.SetDecision(0, 0, Active());
  records.SetDecision(0, 0, v1::Decision());
  auto srv = records.Lookup("_sip._udp.acme.fleet.example.", "SRV");
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(srv->size(), 3u);
}

TEST(FaceRecords, NameMeantForSrvIsAnEmptyNonTerminal) {
  FaceRecords records(OneName());
  records.SetDecision(0, 0, Active());
  for (const char* name : {"acme.fleet.example.", "_udp.acme.fleet.example."}) {
    auto any = records.Lookup(name, "ANY");
    ASSERT_TRUE(any.ok()) << name;
    EXPECT_THAT(*any, ElementsAre(Record{name, "ENT", "", 5}));
    auto a = records.Lookup(name, "A");
    ASSERT_TRUE(a.ok());
    EXPECT_THAT(*a, IsEmpty()) << "NODATA, never an A record at " << name;
  }
  EXPECT_TRUE(
      absl::IsNotFound(records.Lookup("other.fleet.example.", "ANY").status()));
  EXPECT_TRUE(absl::IsNotFound(records.Lookup("example.", "SOA").status()));
}

TEST(FaceRecords, AddressPublishesEveryServerAtTheNameRanked) {
  FaceRecords records(OneName(/*srv=*/false, /*address=*/true));
  records.SetDecision(0, 0, Active());
  auto any = records.Lookup("acme.fleet.example.", "ANY");
  ASSERT_TRUE(any.ok());
  const std::string name = "acme.fleet.example.";
  EXPECT_THAT(*any, ElementsAre(Record{name, "A", "192.0.2.2", 5},
                                Record{name, "AAAA", "2001:db8::3", 5},
                                Record{name, "A", "192.0.2.1", 5}));
  EXPECT_TRUE(absl::IsNotFound(
      records.Lookup("_sip._udp.acme.fleet.example.", "ANY").status()));
}

}  // namespace
}  // namespace sipresolver::server::dns_face
