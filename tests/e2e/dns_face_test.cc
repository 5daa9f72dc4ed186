// End to end, the DNS face: phones without an agent ask a real PowerDNS
// (remote backend: the real sipresolverd's --dns_face_socket) with dig; the
// ITSP's servers are real Kamailio registrars found through a real dnsmasq
// (SRV priorities 10, 20 and 30). The answers must follow the registrars'
// health, keep every server when probes see none working (fail static), and say
// "try again" (SERVFAIL) rather than "no such name" while the ITSP's own
// DNS has given nothing.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/dig.h"
#include "tests/support/eventually.h"
#include "tests/support/powerdns_server.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {
namespace {

constexpr char kService[] = "_sip._udp.acme.fleet.test.";

class DnsFaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("dns_face_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    const std::string socket = dir_.path() + "/face.sock";
    const std::string config = dir_.path() + "/face.json";
    ASSERT_TRUE(WriteTextFile(config, R"({"zones":[{"zone":"fleet.test",
      "ttlSeconds":1, "nameservers":["ns1.fleet.test"], "names":[
        {"name":"acme","profile":{"proxyServer":"itsp.test",
                                  "proxyServerRedundancy":true}},
        {"name":"ghost","profile":{"proxyServer":"nothing.test",
                                   "proxyServerRedundancy":true}}]}]})")
                    .ok());
    RegistrarStackOptions options;
    options.registrars = 3;
    options.extra_flags = {"--dns_face_socket=" + socket,
                           "--dns_face_config=" + config};
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    PowerDnsOptions pdns;
    pdns.backend_socket = socket;
    // As examples/dns-face/pdns.conf: no shuffling, and the zone cache
    // (filled from the face's getAllDomains).
    pdns.shuffle = false;
    pdns.zone_cache_refresh_interval = 60;
    auto powerdns = PowerDnsServer::Start(pdns);
    ASSERT_TRUE(powerdns.ok()) << powerdns.status();
    powerdns_ = *std::move(powerdns);
  }

  // The ports of the SRV answer, in priority order; empty on any failure.
  std::vector<uint16_t> SrvPorts() {
    auto answer = Dig(powerdns_->port(), kService, "SRV");
    return answer.ok() ? answer->SrvPorts() : std::vector<uint16_t>();
  }

  uint16_t port(int i) const { return stack_->registrar(i).port(); }

  TempDir dir_;
  std::unique_ptr<RegistrarStack> stack_;
  std::unique_ptr<PowerDnsServer> powerdns_;
};

TEST_F(DnsFaceTest, AnswersFollowTheRegistrarsHealth) {
  std::vector<uint16_t> ports;
  ASSERT_TRUE(Eventually([&] {
    ports = SrvPorts();
    return ports == std::vector<uint16_t>{port(0), port(1), port(2)};
  })) << powerdns_->ReadLog();
  auto answer = Dig(powerdns_->port(), kService, "SRV");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->authoritative);
  EXPECT_EQ(answer->AnswerData("SRV").front(),
            absl::StrCat("10 0 ", port(0), " v4-127-0-0-1.acme.fleet.test."));
  EXPECT_EQ(answer->answer.front().ttl, 1u);
  auto target = Dig(powerdns_->port(), "v4-127-0-0-1.acme.fleet.test", "A");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->AnswerData("A"), std::vector<std::string>{"127.0.0.1"});

  // A server behind the primary stops: the decision keeps its primary, and
  // the answer puts the working one before the stopped one.
  stack_->registrar(1).Pause();
  EXPECT_TRUE(Eventually([&] {
    ports = SrvPorts();
    return ports == std::vector<uint16_t>{port(0), port(2), port(1)};
  })) << ports.size();
  // The primary's registrar stops too: the one working server comes first,
  // the stopped ones stay listed (a phone that tries them moves on).
  stack_->registrar(0).Pause();
  EXPECT_TRUE(Eventually([&] {
    ports = SrvPorts();
    return !ports.empty() && ports.front() == port(2) && ports.size() == 3;
  })) << ports.size();
  stack_->registrar(0).Resume();
  stack_->registrar(1).Resume();

  // Operators see the lookups.
  EXPECT_GT(MetricValue(stack_->daemon().Metrics(),
                        "sipresolver_dns_face_lookups_total{outcome="
                        "\"answered\"}"),
            0);
}

TEST_F(DnsFaceTest, NameMeantForSrvHasNoAddressAndUnknownNamesDoNotExist) {
  ASSERT_TRUE(Eventually([&] { return !SrvPorts().empty(); }));
  // A phone that asks A first (Obihai) hears NODATA and goes on to SRV.
  auto a = Dig(powerdns_->port(), "acme.fleet.test", "A");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, "NOERROR");
  EXPECT_TRUE(a->answer.empty());
  EXPECT_EQ(a->NegativeTtl(), 1u);
  auto other = Dig(powerdns_->port(), "other.fleet.test", "A");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->rcode, "NXDOMAIN");
}

TEST_F(DnsFaceTest, FailStaticKeepsEveryServerWhenNoneAnswersProbes) {
  ASSERT_TRUE(Eventually([&] { return SrvPorts().size() == 3; }));
  for (int i = 0; i < 3; ++i) stack_->registrar(i).Pause();
  // All fail their probes; the answer is the device's own order, whole.
  ASSERT_TRUE(Eventually([&] {
    v1::ListServersRequest request;
    v1::ListServersResponse response;
    grpc::ClientContext context;
    if (!stack_->daemon()
             .stub()
             .ListServers(&context, request, &response)
             .ok()) {
      return false;
    }
    int unhealthy = 0;
    for (const auto& s : response.servers()) {
      unhealthy += s.health().state() == v1::HEALTH_STATE_UNHEALTHY;
    }
    return unhealthy == 3;
  }));
  EXPECT_EQ(SrvPorts(), (std::vector<uint16_t>{port(0), port(1), port(2)}));
  for (int i = 0; i < 3; ++i) stack_->registrar(i).Resume();
}

TEST_F(DnsFaceTest, ItspWithoutServersIsServfailNotNxdomain) {
  auto answer = Dig(powerdns_->port(), "_sip._udp.ghost.fleet.test", "SRV");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->rcode, "SERVFAIL");
  EXPECT_GT(MetricValue(stack_->daemon().Metrics(),
                        "sipresolver_dns_face_lookups_total{outcome="
                        "\"unavailable\"}"),
            0);
}

TEST(DnsFaceFlags, BadConfigurationFailsTheStartNamingTheField) {
  auto dir = TempDir::Create("dns_face_flags");
  ASSERT_TRUE(dir.ok());
  const std::string config = dir->path() + "/face.json";
  ASSERT_TRUE(WriteTextFile(config, R"({"zones":[{"zone":"fleet.test",
    "names":[{"name":"acme","profile":{"proxyServer":"itsp.test"},
              "publish":["mx"]}]}]})")
                  .ok());
  auto daemon = SipresolverdProcess::Start(
      "127.0.0.1:53", {"--probe_allow=127.0.0.1/32",
                       "--dns_face_socket=" + dir->path() + "/face.sock",
                       "--dns_face_config=" + config});
  ASSERT_FALSE(daemon.ok());
  EXPECT_THAT(std::string(daemon.status().message()),
              ::testing::HasSubstr("zones[0].names[0].publish"));
  // A name whose server --probe_allow refuses: the operator hears which.
  ASSERT_TRUE(WriteTextFile(config, R"({"zones":[{"zone":"fleet.test",
    "names":[{"name":"stranger","profile":{"proxyServer":"127.0.0.2"}}]}]})")
                  .ok());
  daemon = SipresolverdProcess::Start(
      "127.0.0.1:53", {"--probe_allow=127.0.0.1/32",
                       "--dns_face_socket=" + dir->path() + "/face.sock",
                       "--dns_face_config=" + config});
  ASSERT_FALSE(daemon.ok());
  EXPECT_THAT(std::string(daemon.status().message()),
              ::testing::HasSubstr("stranger.fleet.test."));
  EXPECT_THAT(std::string(daemon.status().message()),
              ::testing::HasSubstr("--probe_allow"));
  daemon = SipresolverdProcess::Start(
      "127.0.0.1:53", {"--dns_face_socket=" + dir->path() + "/face.sock"});
  ASSERT_FALSE(daemon.ok());
  EXPECT_THAT(std::string(daemon.status().message()),
              ::testing::HasSubstr("set both or neither"));
}

}  // namespace
}  // namespace sipresolver::testing
