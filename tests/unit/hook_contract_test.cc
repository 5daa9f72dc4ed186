// The hook contract of `sipresolver watch` (client/hook_contract): which
// decisions are applied, and variables a program can use as they are.
#include "client/hook_contract.h"

#include <map>
#include <string>

#include "client/decision_line.h"
#include "gtest/gtest.h"

namespace sipresolver::cli {
namespace {

using client::DecisionSource;

std::map<std::string, std::string> AsMap(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    EXPECT_NE(eq, std::string::npos) << entry;
    EXPECT_TRUE(out.emplace(entry.substr(0, eq), entry.substr(eq + 1)).second)
        << "twice: " << entry;
  }
  return out;
}

v1::ItspProfile Profile(v1::Transport transport = v1::TRANSPORT_UDP) {
  v1::ItspProfile p;
  p.set_proxy_server("itsp.example.com");
  p.set_proxy_server_redundancy(true);
  p.set_proxy_server_transport(transport);
  return p;
}

std::map<std::string, std::string> Env(
    const v1::Decision& d, v1::Transport transport,
    const std::string& decision_file = "",
    const std::optional<nat::MappedAddress>& mapped = std::nullopt) {
  return AsMap(HookEnvironment(d, DecisionSource::kService, Profile(transport),
                               decision_file, mapped));
}

v1::Decision Active() {
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_version(42);
  d.set_assurance(v1::ASSURANCE_PROBES);
  v1::Candidate& p = *d.mutable_primary();
  p.set_target("pbx1.itsp.test");
  p.set_address("192.0.2.1");
  p.set_port(5060);
  v1::Candidate& s = *d.mutable_secondary();
  s.set_target("pbx2.itsp.test");
  s.set_address("2001:db8::2");
  s.set_port(5080);
  v1::Endpoint& k = *d.mutable_keep_alive_target();
  k.set_address("2001:db8::9");
  k.set_port(3478);
  k.set_transport(v1::TRANSPORT_UDP);
  return d;
}

TEST(HookContractTest, EachServerAsHostPortAddressPortTransportAndTarget) {
  auto env = Env(Active(), v1::TRANSPORT_TCP, "/run/d.json");
  EXPECT_EQ(env["SIPRESOLVER_HOOK_CONTRACT"], "3");
  EXPECT_EQ(env["SIPRESOLVER_STATE"], "active");
  EXPECT_EQ(env["SIPRESOLVER_ASSURANCE"], "probes");
  EXPECT_EQ(env["SIPRESOLVER_VERSION"], "42");
  EXPECT_EQ(env["SIPRESOLVER_DECISION_FILE"], "/run/d.json");
  // Usable as is: "sip:$SIPRESOLVER_PRIMARY;transport=$..._TRANSPORT".
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY"], "192.0.2.1:5060");
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_ADDRESS"], "192.0.2.1");
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_PORT"], "5060");
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_TRANSPORT"], "tcp");
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_TARGET"], "pbx1.itsp.test");
  // IPv6: bracketed in HOST:PORT wherever it appears, bare in _ADDRESS.
  EXPECT_EQ(env["SIPRESOLVER_SECONDARY"], "[2001:db8::2]:5080");
  EXPECT_EQ(env["SIPRESOLVER_SECONDARY_ADDRESS"], "2001:db8::2");
  EXPECT_EQ(env["SIPRESOLVER_KEEPALIVE"], "[2001:db8::9]:3478");
  EXPECT_EQ(env["SIPRESOLVER_KEEPALIVE_ADDRESS"], "2001:db8::9");
  EXPECT_EQ(env["SIPRESOLVER_KEEPALIVE_TRANSPORT"], "udp");
  EXPECT_EQ(env["SIPRESOLVER_KEEPALIVE_TARGET"], "2001:db8::9");
}

TEST(HookContractTest, AbsentServerHasEveryVariableEmpty) {
  v1::Decision d = Active();
  d.clear_secondary();
  auto env = Env(d, v1::TRANSPORT_UDP);
  for (const char* name :
       {"SIPRESOLVER_SECONDARY", "SIPRESOLVER_SECONDARY_ADDRESS",
        "SIPRESOLVER_SECONDARY_PORT", "SIPRESOLVER_SECONDARY_TRANSPORT",
        "SIPRESOLVER_SECONDARY_TARGET"}) {
    ASSERT_TRUE(env.count(name)) << name;
    EXPECT_EQ(env[name], "") << name;
  }
  EXPECT_EQ(env["SIPRESOLVER_MAPPED"], "");
}

TEST(HookContractTest, LiteralServerIsItsOwnTarget) {
  v1::Decision d = Active();
  d.mutable_primary()->clear_target();
  auto env = Env(d, v1::TRANSPORT_UNSPECIFIED);
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_TARGET"], "192.0.2.1");
  EXPECT_EQ(env["SIPRESOLVER_PRIMARY_TRANSPORT"], "udp");
}

TEST(HookContractTest, MappedAddressIsBracketedLikeTheServers) {
  nat::MappedAddress m;
  m.address = "2001:db8::7";
  m.port = 40000;
  m.method = nat::MappedAddress::Method::kStun;
  auto env = Env(Active(), v1::TRANSPORT_UDP, "", m);
  EXPECT_EQ(env["SIPRESOLVER_MAPPED"], "[2001:db8::7]:40000");
  EXPECT_EQ(env["SIPRESOLVER_MAPPED_BY"], "stun");
}

// No state ever asks a device to clear a working server (device control
// hands it its own resolution back: DeviceControlHasEvery... below).
TEST(HookContractTest, OnlyActiveDecisionsAreApplied) {
  EXPECT_TRUE(AppliesToDevice(Active()));
  v1::Decision unconfirmed = Active();
  unconfirmed.set_assurance(v1::ASSURANCE_UNCONFIRMED);
  EXPECT_TRUE(AppliesToDevice(unconfirmed));  // The device's own choice.

  v1::Decision searching;
  searching.set_state(v1::DECISION_STATE_SEARCHING);
  EXPECT_FALSE(AppliesToDevice(searching));
  v1::Decision none;
  none.set_state(v1::DECISION_STATE_NO_WORKING_SERVER);
  EXPECT_FALSE(AppliesToDevice(none));
  v1::Decision empty_active;
  empty_active.set_state(v1::DECISION_STATE_ACTIVE);
  EXPECT_FALSE(AppliesToDevice(empty_active));
}

TEST(HookContractTest, DecisionFileNamesItsSchemaAndSource) {
  EXPECT_EQ(DecisionFile("{\"version\":\"42\"}\n", DecisionSource::kService),
            "{\"schema\":\"sipresolver.decision-file/1\",\"source\":"
            "\"service\",\"decision\":{\"version\":\"42\"}}\n");
  EXPECT_EQ(DecisionFile("{}", DecisionSource::kAgent),
            "{\"schema\":\"sipresolver.decision-file/1\",\"source\":"
            "\"agent\",\"decision\":{}}\n");
}

// Contract 3: who decided.
TEST(HookContractTest, SourceSaysWhoDecided) {
  EXPECT_EQ(Env(Active(), v1::TRANSPORT_UDP)["SIPRESOLVER_SOURCE"], "service");
  auto env = AsMap(HookEnvironment(Active(), DecisionSource::kAgent, Profile(),
                                   "", std::nullopt));
  EXPECT_EQ(env["SIPRESOLVER_SOURCE"], "agent");
}

// Contract 3: the profile's server (S3), in every state.
TEST(HookContractTest, ProfileServerIsTheS3Target) {
  auto env = Env(Active(), v1::TRANSPORT_TLS);
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_SERVER"], "itsp.example.com");
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_PORT"], "");  // Not configured.
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_TRANSPORT"], "tls");

  v1::ItspProfile p = Profile();
  p.set_registrar_server("reg.example.com");
  p.set_registrar_server_port(5080);
  env = AsMap(
      HookEnvironment(Active(), DecisionSource::kService, p, "", std::nullopt));
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_SERVER"], "reg.example.com");
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_PORT"], "5080");
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_TRANSPORT"], "udp");

  p.set_outbound_proxy("obp.example.com");
  p.set_outbound_proxy_port(5070);
  env = AsMap(
      HookEnvironment(Active(), DecisionSource::kService, p, "", std::nullopt));
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_SERVER"], "obp.example.com");
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_PORT"], "5070");
}

v1::Decision DeviceControl() {
  v1::Decision d;
  d.set_state(v1::DECISION_STATE_DEVICE_CONTROL);
  d.set_version(42);
  d.set_reason(
      "the service has been unreachable for 10m0s: control is back with the "
      "device's own resolution of itsp.example.com (S1-S10 on the device)");
  *d.add_candidates() = Active().primary();
  return d;
}

// Contract 3: device control goes to the hook with no server of the
// service's at all: the device resolves the profile's server itself.
TEST(HookContractTest, DeviceControlHasEveryServerEmptyAndTheProfile) {
  EXPECT_TRUE(AppliesToDevice(DeviceControl()));
  EXPECT_EQ(StateName(v1::DECISION_STATE_DEVICE_CONTROL), "device_control");
  auto env = AsMap(HookEnvironment(DeviceControl(), DecisionSource::kAgent,
                                   Profile(), "", std::nullopt));
  EXPECT_EQ(env["SIPRESOLVER_STATE"], "device_control");
  EXPECT_EQ(env["SIPRESOLVER_SOURCE"], "agent");
  EXPECT_EQ(env["SIPRESOLVER_ASSURANCE"], "");
  for (const char* server : {"PRIMARY", "SECONDARY", "KEEPALIVE"}) {
    for (const char* suffix :
         {"", "_ADDRESS", "_PORT", "_TRANSPORT", "_TARGET"}) {
      const std::string name = std::string("SIPRESOLVER_") + server + suffix;
      ASSERT_TRUE(env.count(name)) << name;
      EXPECT_EQ(env[name], "") << name;
    }
  }
  EXPECT_EQ(env["SIPRESOLVER_PROFILE_SERVER"], "itsp.example.com");
}

TEST(HookContractTest, DeviceControlPrintsAsOneLine) {
  EXPECT_EQ(FormatDecisionLine(DeviceControl()),
            "v42 device control - the service has been unreachable for 10m0s: "
            "control is back with the device's own resolution of "
            "itsp.example.com (S1-S10 on the device)\n");
}

}  // namespace
}  // namespace sipresolver::cli
