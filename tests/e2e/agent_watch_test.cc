// Both agents a device can run, `sipresolver watch` and the device-sized
// `sipresolver-agent` (AgentKind), against the real sipresolverd, dnsmasq and
// Kamailio registrars: every scenario runs for each, with the same flags, and
// checks what a device integrator relies on (stdout, the decision file, the
// hook's environment, exit status), so a device cannot tell them apart.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/agent_command.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unix_datagram.h"

namespace sipresolver::testing {
namespace {

// Each hook run appends one line: state source primary secondary assurance.
constexpr char kRecordingHook[] =
    "echo \"$SIPRESOLVER_STATE $SIPRESOLVER_SOURCE $SIPRESOLVER_PRIMARY "
    "$SIPRESOLVER_SECONDARY $SIPRESOLVER_ASSURANCE "
    "$SIPRESOLVER_HOOK_CONTRACT\" >> ";

class AgentWatchTest : public ::testing::TestWithParam<AgentKind> {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(AgentBinary(GetParam()).c_str(), X_OK), 0)
        << AgentBinary(GetParam())
        << " is missing: scripts/build-agent x86_64 armhf builds the device "
           "agent (scripts/test does)";
    auto dir = TempDir::Create("agent_watch_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  void StartStack(RegistrarStackOptions options = {}) {
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }

  std::string Port(int registrar) {
    return absl::StrCat("127.0.0.1:", stack_->registrar(registrar).port());
  }

  // The profile, as JSON, with `fields` after proxy_server and redundancy.
  static std::string Profile(const std::string& fields = "") {
    return absl::StrCat(
        R"(--profile={"proxy_server": "itsp.test", "proxy_server_redundancy": true, )",
        R"("check_primary_fallback_interval": "2s")",
        fields.empty() ? "" : ", ", fields, "}");
  }

  std::vector<std::string> Command(std::vector<std::string> flags,
                                   const std::string& server = "") {
    return AgentCommand(
        GetParam(), server.empty() ? stack_->daemon().grpc_address() : server,
        flags);
  }

  // The agent, running, with the recording hook and a decision file.
  void StartAgent(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(),
                 {"--agent_id=device-1",
                  "--hook=" + std::string(kRecordingHook) + HookFile(),
                  "--output_file=" + dir_.File("decision.json")});
    if (!absl::c_any_of(flags, [](const std::string& f) {
          return absl::StartsWith(f, "--profile=");
        }))
      flags.push_back(Profile());
    auto agent = Subprocess::Start(Command(flags));
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
  }

  std::string HookFile() { return dir_.File("hooked"); }
  std::vector<std::string> HookRuns() {
    return absl::StrSplit(ReadFile(HookFile()), '\n', absl::SkipEmpty());
  }
  // A hook run whose line starts with `prefix` ("active service P ...").
  bool HookRan(const std::string& prefix) {
    for (const std::string& run : HookRuns())
      if (absl::StartsWith(run, prefix)) return true;
    return false;
  }
  std::string Diagnostics() {
    return absl::StrCat("hook runs:\n", ReadFile(HookFile()), "agent:\n",
                        agent_ ? agent_->Output() : "");
  }

  TempDir dir_;
  std::unique_ptr<RegistrarStack> stack_;
  std::unique_ptr<Subprocess> agent_;
};

// S6: the first decision goes to stdout, the decision file (valid by its
// published schema) and the hook (contract 3), from the service.
TEST_P(AgentWatchTest, S6_FirstDecisionReachesFileHookAndOutput) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] {
    return HookRan("active service " + Port(0) + "  ");
  })) << Diagnostics();
  EXPECT_TRUE(absl::StrContains(agent_->Output(), "primary " + Port(0)))
      << Diagnostics();
  const std::string file = dir_.File("decision.json");
  EXPECT_TRUE(
      absl::StrContains(ReadFile(file), "\"state\":\"DECISION_STATE_ACTIVE\""))
      << ReadFile(file);
  CommandResult valid = RunCommand(
      {"/usr/bin/python3", "-c",
       "import json, sys, jsonschema\n"
       "jsonschema.validate(json.load(open(sys.argv[2])),"
       " json.load(open(sys.argv[1])))",
       SIPRESOLVER_SOURCE_DIR "/docs/decision-file.schema.json", file});
  EXPECT_EQ(valid.exit_status, 0) << valid.output << ReadFile(file);
  EXPECT_TRUE(absl::EndsWith(HookRuns().front(), " 3")) << Diagnostics();
  // Only active decisions are applied: no "searching" run at the start.
  EXPECT_FALSE(HookRan("searching")) << Diagnostics();
}

// S10 then S8: the primary stops, the hook moves the device to the next
// registrar; it comes back, and at the next check the device goes back.
TEST_P(AgentWatchTest, S10_S8_FailoverAndBack) {
  RegistrarStackOptions options;
  options.registrars = 2;
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
  stack_->registrar(0).Pause();
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(1)); }))
      << Diagnostics();
  stack_->registrar(0).Resume();
  EXPECT_TRUE(Eventually([&] {
    const std::vector<std::string> runs = HookRuns();
    return absl::StartsWith(runs.back(), "active service " + Port(0));
  })) << Diagnostics();
}

// S9: the secondary registration's server is handed on too.
TEST_P(AgentWatchTest, S9_SecondaryIsHandedOn) {
  RegistrarStackOptions options;
  options.registrars = 2;
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(
      StartAgent({Profile(R"("secondary_registration": true)")}));
  EXPECT_TRUE(Eventually([&] {
    return HookRan("active service " + Port(0) + " " + Port(1));
  })) << Diagnostics();
}

// Fail static: the registrar bans the prober; the device still gets its own
// choice, applied, and told it is unconfirmed.
TEST_P(AgentWatchTest, UnconfirmedDecisionIsAppliedAndSaysSo) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  KamailioConfig banned;
  banned.drop_user_agent = "sipresolver-probe";
  ASSERT_TRUE(stack_->registrar(0).Restart(banned).ok());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] {
    return HookRan("active service " + Port(0) + "  unconfirmed");
  })) << Diagnostics();
  EXPECT_TRUE(absl::StrContains(
      agent_->Output(),
      "active (unconfirmed: the device's own choice): primary " + Port(0)))
      << Diagnostics();
}

// A restarted server (or another replica) knows less at first: its
// SEARCHING and the same decision again change nothing on the device. The
// failover after it is the next hook run, so none ran in between.
TEST_P(AgentWatchTest, ServerRestartRunsNoHook) {
  RegistrarStackOptions options;
  options.registrars = 2;
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
  ASSERT_TRUE(stack_->daemon().Restart().ok());
  ASSERT_TRUE(Eventually([&] {
    return MetricValue(stack_->daemon().Metrics(),
                       "sipresolver_decision_streams") == 1;
  })) << Diagnostics();
  stack_->registrar(0).Pause();
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(1)); }))
      << Diagnostics();
  const std::vector<std::string> runs = HookRuns();
  ASSERT_EQ(runs.size(), 2u) << Diagnostics();
}

// A server shutting down (SIGTERM) ends the stream with "reconnect now":
// the agent reconnects at once, and to the server's successor with no hook
// run for the same decision.
TEST_P(AgentWatchTest, DrainingServerMeansReconnectAtOnce) {
  RegistrarStackOptions options;
  options.extra_flags = {"--shutdown_drain_delay=0s"};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
  stack_->daemon().process().Signal(SIGTERM);
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(agent_->Output(), "reconnecting in 0");
  })) << Diagnostics();
  EXPECT_EQ(stack_->daemon().process().Wait(absl::Seconds(30)), 0);
  ASSERT_TRUE(stack_->daemon().Restart().ok());
  ASSERT_TRUE(Eventually([&] {
    return MetricValue(stack_->daemon().Metrics(),
                       "sipresolver_decision_streams") == 1;
  })) << Diagnostics();
  EXPECT_EQ(HookRuns().size(), 1u) << Diagnostics();
}

// TLS: the server verified against a CA file and a name; mutual TLS with a
// client certificate; a client without one gets nothing.
TEST_P(AgentWatchTest, TlsAndMutualTls) {
  auto pki = TestPki::Create();
  ASSERT_TRUE(pki.ok()) << pki.status();
  auto server = (*pki)->Issue("server", {"DNS:localhost"});
  auto client =
      (*pki)->Issue("client", {"DNS:device-1"}, TestPki::Usage::kClient);
  ASSERT_TRUE(server.ok() && client.ok());
  RegistrarStackOptions options;
  options.extra_flags = {"--tls_cert_file=" + server->cert_file,
                         "--tls_key_file=" + server->key_file,
                         "--tls_client_ca_file=" + (*pki)->ca_file()};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--tls_ca_file=" + (*pki)->ca_file(),
                                      "--tls_cert_file=" + client->cert_file,
                                      "--tls_key_file=" + client->key_file,
                                      "--tls_server_name=localhost"}));
  EXPECT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();

  // Without a client certificate the server refuses the handshake.
  auto refused = Subprocess::Start(Command(
      {Profile(), "--agent_id=device-2", "--tls_ca_file=" + (*pki)->ca_file(),
       "--tls_server_name=localhost"}));
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains((*refused)->Output(), "reconnecting");
  })) << (*refused)->Output();
  EXPECT_FALSE(absl::StrContains((*refused)->Output(), "primary"));
}

// A renewed device certificate is used from the next connection without a
// restart: the agent starts with one the server refuses (another CA's), and
// connects once the files are replaced (renamed over, as Kubernetes and
// certificate tools do).
TEST_P(AgentWatchTest, RenewedClientCertificateIsUsedWithoutARestart) {
  auto pki = TestPki::Create();
  auto stranger = TestPki::Create("another CA");
  ASSERT_TRUE(pki.ok() && stranger.ok());
  auto server = (*pki)->Issue("server", {"DNS:localhost"});
  auto good =
      (*pki)->Issue("client", {"DNS:device-1"}, TestPki::Usage::kClient);
  auto refused =
      (*stranger)->Issue("client", {"DNS:device-1"}, TestPki::Usage::kClient);
  ASSERT_TRUE(server.ok() && good.ok() && refused.ok());
  RegistrarStackOptions options;
  options.extra_flags = {"--tls_cert_file=" + server->cert_file,
                         "--tls_key_file=" + server->key_file,
                         "--tls_client_ca_file=" + (*pki)->ca_file()};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  const std::string cert = dir_.File("client.crt");
  const std::string key = dir_.File("client.key");
  const auto install = [&](const IssuedCertificate& c) {
    for (const auto& [from, to] :
         {std::pair{c.cert_file, cert}, std::pair{c.key_file, key}}) {
      std::ofstream(to + ".new") << ReadFile(from);
      ASSERT_EQ(std::rename((to + ".new").c_str(), to.c_str()), 0);
    }
  };
  ASSERT_NO_FATAL_FAILURE(install(*refused));
  std::vector<std::string> flags = {
      "--tls_ca_file=" + (*pki)->ca_file(), "--tls_cert_file=" + cert,
      "--tls_key_file=" + key, "--tls_server_name=localhost"};
  if (GetParam() == AgentKind::kWatch) {
    flags.push_back(
        "--tls_reload_interval=1s");  // The C agent: each connection.
  }
  ASSERT_NO_FATAL_FAILURE(StartAgent(flags));
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(agent_->Output(), "reconnecting");
  })) << Diagnostics();
  EXPECT_FALSE(HookRan("active service"));

  ASSERT_NO_FATAL_FAILURE(install(*good));
  // gRPC's own reconnect backoff (the C++ agent) has grown meanwhile: its
  // next attempt may be tens of seconds away.
  EXPECT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); },
                         absl::Seconds(150)))
      << Diagnostics();
}

// A line on --report_socket reaches the service as ReportObservation: its
// registration is device evidence (ListServers' device_successes).
TEST_P(AgentWatchTest, ReportsThroughTheSocketAreDeviceEvidence) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  const std::string socket = dir_.File("report");
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--report_socket=" + socket}));
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
  ASSERT_TRUE(SendDatagram(socket, Port(0) + " 200\n").ok());
  EXPECT_TRUE(Eventually([&] {
    v1::ListServersResponse servers;
    grpc::ClientContext context;
    if (!stack_->daemon()
             .stub()
             .ListServers(&context, v1::ListServersRequest(), &servers)
             .ok())
      return false;
    for (const v1::ServerStatus& s : servers.servers()) {
      if (s.endpoint().port() == stack_->registrar(0).port() &&
          s.health().device_successes() == 1)
        return true;
    }
    return false;
  })) << Diagnostics();
}

// The service's name may stand for several addresses (gRPC's
// "ipv4:ADDR:PORT,..." form, as replicas behind a name): one that refuses
// connections is skipped, wherever it is in the list.
TEST_P(AgentWatchTest, SeveralAddressesAreTriedInTurn) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  const std::string dead = absl::StrCat("127.0.0.1:", PickFreePort());
  const std::string live = stack_->daemon().grpc_address();
  for (const std::string& list : {dead + "," + live, live + "," + dead}) {
    CommandResult r = RunCommand(
        Command({Profile(), "--agent_id=device-1", "--once"}, "ipv4:" + list));
    EXPECT_EQ(r.exit_status, 0) << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, "primary " + Port(0))) << r.output;
  }
}

TEST_P(AgentWatchTest, InvalidProfileIsAnRpcError) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  CommandResult r = RunCommand(
      Command({R"(--profile={"proxy_server": "bad name"})", "--agent_id=d"}));
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "INVALID_ARGUMENT")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "profile.proxy_server")) << r.output;
}

TEST_P(AgentWatchTest, UsageErrors) {
  const std::string server = "127.0.0.1:1";
  EXPECT_EQ(RunCommand(Command({"--agent_id=d"}, server)).exit_status, 2);
  EXPECT_EQ(RunCommand(Command({"--profile={not json", "--agent_id=d"}, server))
                .exit_status,
            2);
  CommandResult missing = RunCommand(Command(
      {"--profile=@/nonexistent/profile.json", "--agent_id=d"}, server));
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_TRUE(absl::StrContains(missing.output, "--profile: cannot read"))
      << missing.output;
  EXPECT_EQ(RunCommand(Command({R"(--profile={"proxy_server":"x.test"})",
                                "--agent_id=d", "--spread=random"},
                               server))
                .exit_status,
            2);
}

// With --json, stdout is one decision (one JSON object) per line, whatever
// the hook prints; --once ends after the first active decision.
TEST_P(AgentWatchTest, JsonOutputCarriesOnlyDecisions) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  std::string command;
  for (const std::string& arg :
       Command({Profile(), "--agent_id=device-1", "--once", "--json",
                "--hook=echo from-the-hook"}))
    absl::StrAppend(&command, "'", arg, "' ");
  CommandResult r = RunCommand({"/bin/sh", "-c", command + "2>/dev/null"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_FALSE(absl::StrContains(r.output, "from-the-hook")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "\"primary\":{")) << r.output;
  for (absl::string_view line :
       absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "{") && absl::EndsWith(line, "}"))
        << line;
  }
}

TEST_P(AgentWatchTest, RunsUntilInterruptedThenExitsCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(agent_->WaitForOutput(": primary", absl::Seconds(30)))
      << Diagnostics();
  agent_->Signal(SIGINT);
  EXPECT_EQ(agent_->Wait(absl::Seconds(30)), 0) << Diagnostics();
}

// The device agent as devices get it (scripts/build-agent): the x86_64
// static build and the armhf build under qemu-user-static, with the
// trimmed mbedTLS: first decision, failover and hook, TLS.
using DeviceBuildTest = AgentWatchTest;

TEST_P(DeviceBuildTest, FailsOverAndRunsItsHook) {
  RegistrarStackOptions options;
  options.registrars = 2;
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
  stack_->registrar(0).Pause();
  EXPECT_TRUE(Eventually([&] { return HookRan("active service " + Port(1)); }))
      << Diagnostics();
}

TEST_P(DeviceBuildTest, MutualTlsWithTheTrimmedMbedTls) {
  auto pki = TestPki::Create();
  ASSERT_TRUE(pki.ok()) << pki.status();
  auto server = (*pki)->Issue("server", {"DNS:localhost"});
  auto client =
      (*pki)->Issue("client", {"DNS:device-1"}, TestPki::Usage::kClient);
  ASSERT_TRUE(server.ok() && client.ok());
  RegistrarStackOptions options;
  options.extra_flags = {"--tls_cert_file=" + server->cert_file,
                         "--tls_key_file=" + server->key_file,
                         "--tls_client_ca_file=" + (*pki)->ca_file()};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--tls_ca_file=" + (*pki)->ca_file(),
                                      "--tls_cert_file=" + client->cert_file,
                                      "--tls_key_file=" + client->key_file,
                                      "--tls_server_name=localhost"}));
  EXPECT_TRUE(Eventually([&] { return HookRan("active service " + Port(0)); }))
      << Diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Builds, DeviceBuildTest,
                         ::testing::Values(AgentKind::kDeviceX86,
                                           AgentKind::kDeviceArmhf),
                         [](const auto& info) {
                           return AgentName(info.param);
                         });

INSTANTIATE_TEST_SUITE_P(Agents, AgentWatchTest,
                         ::testing::Values(AgentKind::kWatch,
                                           AgentKind::kDevice),
                         [](const auto& info) {
                           return AgentName(info.param);
                         });

}  // namespace
}  // namespace sipresolver::testing
