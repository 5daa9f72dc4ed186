// An agent without the service, end to end: the real sipresolverd (killed
// and started again), three real Kamailio registrars behind real DNS, and
// the agent with a hook and a report socket. The agent must move the device
// off a registrar that died while the service was gone (local failover,
// S6-S10), hand control back to the device after --device_control_after,
// and let the service's decisions take over again when it is back.
//
// Parameterised over the agent kinds (tests/support/agent_command.h): the
// same contract holds for each.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/agent_command.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unix_datagram.h"

namespace sipresolver::testing {
namespace {

// How long the service may take to come back for the agent: its reconnect
// backoff (30 s at most) and gRPC's own connection backoff after a long
// outage. Only bounds a failing test.
constexpr absl::Duration kServiceBack = absl::Seconds(120);

// One hook run, as the hook below writes it.
struct HookRun {
  std::string state, source, primary, profile_server, line;
};

class AgentWithoutServiceTest : public ::testing::TestWithParam<AgentKind> {
 protected:
  void SetUp() override {
    RegistrarStackOptions options;
    options.registrars = 3;
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    auto dir = TempDir::Create("cli_watch_local_failover_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  // The agent with a hook that appends one line per run to hook.log.
  void StartAgent(const std::string& device_control_after = "") {
    std::vector<std::string> flags = {
        absl::StrCat(R"(--profile={"proxy_server":")", RegistrarStack::kDomain,
                     R"(","proxy_server_redundancy":true})"),
        "--agent_id=device-1",
        absl::StrCat("--hook=echo \"state=$SIPRESOLVER_STATE "
                     "source=$SIPRESOLVER_SOURCE primary=$SIPRESOLVER_PRIMARY "
                     "profile=$SIPRESOLVER_PROFILE_SERVER\" >> ",
                     dir_.File("hook.log")),
        "--output_file=" + dir_.File("decision.json"),
        "--report_socket=" + dir_.File("report")};
    if (!device_control_after.empty())
      flags.push_back("--device_control_after=" + device_control_after);
    auto agent = Subprocess::Start(
        AgentCommand(GetParam(), stack_->daemon().grpc_address(), flags));
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
  }

  std::vector<HookRun> HookRuns() const {
    std::vector<HookRun> runs;
    for (absl::string_view line : absl::StrSplit(
             ReadFile(dir_.File("hook.log")), '\n', absl::SkipEmpty())) {
      HookRun run;
      run.line = std::string(line);
      for (absl::string_view field : absl::StrSplit(line, ' ')) {
        std::pair<std::string, std::string> kv =
            absl::StrSplit(field, absl::MaxSplits('=', 1));
        if (kv.first == "state") run.state = kv.second;
        if (kv.first == "source") run.source = kv.second;
        if (kv.first == "primary") run.primary = kv.second;
        if (kv.first == "profile") run.profile_server = kv.second;
      }
      runs.push_back(run);
    }
    return runs;
  }

  // Waits for a hook run after the first `after` with `state` and `source`;
  // its index, or -1.
  int WaitForRun(size_t after, const std::string& state,
                 const std::string& source,
                 absl::Duration timeout = kEventuallyTimeout) const {
    int found = -1;
    Eventually(
        [&] {
          const std::vector<HookRun> runs = HookRuns();
          for (size_t i = after; i < runs.size(); ++i) {
            if (runs[i].state == state && runs[i].source == source) {
              found = static_cast<int>(i);
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  std::string Registrar(int i) const {
    return absl::StrCat("127.0.0.1:", stack_->registrar(i).port());
  }

  std::string Diagnostics() const {
    return absl::StrCat("hook runs:\n", ReadFile(dir_.File("hook.log")),
                        "agent:\n", agent_ ? agent_->Output() : "");
  }

  // The service goes away without a word (SIGKILL); the agent notices.
  void KillService() {
    stack_->daemon().Kill();
    ASSERT_TRUE(agent_->WaitForOutput("stream ended", absl::Seconds(30)))
        << Diagnostics();
  }

  std::unique_ptr<RegistrarStack> stack_;
  TempDir dir_;
  std::unique_ptr<Subprocess> agent_;
};

TEST_P(AgentWithoutServiceTest,
       S6MovesOffADeadRegistrarThenTheServiceTakesOver) {
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  const int first = WaitForRun(0, "active", "service");
  ASSERT_GE(first, 0) << Diagnostics();
  ASSERT_EQ(HookRuns()[first].primary, Registrar(0)) << Diagnostics();
  EXPECT_EQ(HookRuns()[first].profile_server, RegistrarStack::kDomain);

  ASSERT_NO_FATAL_FAILURE(KillService());
  stack_->registrar(0).Stop();
  // The device's REGISTER to the primary timed out.
  ASSERT_TRUE(
      SendDatagram(dir_.File("report"), absl::StrCat(Registrar(0), " 408\n"))
          .ok());
  const int local = WaitForRun(first + 1, "active", "agent");
  ASSERT_GE(local, 0) << Diagnostics();
  EXPECT_EQ(HookRuns()[local].primary, Registrar(1)) << Diagnostics();
  EXPECT_TRUE(absl::StrContains(
      agent_->Output(),
      absl::StrCat("the service is unreachable: the device reported REGISTER "
                   "with ",
                   Registrar(0),
                   " failing (408); moved down the candidates in its own "
                   "order (S6-S10, local failover)")))
      << Diagnostics();
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_.File("decision.json")),
                                R"("source":"agent")"));

  // A line the agent cannot read is logged and changes nothing.
  ASSERT_TRUE(SendDatagram(dir_.File("report"), "not a report\n").ok());
  ASSERT_TRUE(
      agent_->WaitForOutput("bad line \"not a report\"", absl::Seconds(30)))
      << Diagnostics();
  EXPECT_TRUE(agent_->running());

  // The service is back: its decisions apply again, and it does not send
  // the device back to the registrar that died.
  ASSERT_TRUE(stack_->daemon().Restart().ok());
  const int back = WaitForRun(local + 1, "active", "service", kServiceBack);
  ASSERT_GE(back, 0) << Diagnostics();
  EXPECT_NE(HookRuns()[back].primary, Registrar(0)) << Diagnostics();
  EXPECT_FALSE(HookRuns()[back].primary.empty()) << Diagnostics();
}

TEST_P(AgentWithoutServiceTest, DeviceControlAfterTheServiceIsGoneForLong) {
  ASSERT_NO_FATAL_FAILURE(StartAgent("2s"));
  const int first = WaitForRun(0, "active", "service");
  ASSERT_GE(first, 0) << Diagnostics();

  ASSERT_NO_FATAL_FAILURE(KillService());
  const int control = WaitForRun(first + 1, "device_control", "agent");
  ASSERT_GE(control, 0) << Diagnostics();
  EXPECT_EQ(HookRuns()[control].primary, "") << Diagnostics();
  EXPECT_EQ(HookRuns()[control].profile_server, RegistrarStack::kDomain);
  EXPECT_TRUE(absl::StrContains(
      agent_->Output(),
      "device control - the service has been unreachable for 2s: control is "
      "back with the device's own resolution of itsp.test (S1-S10 on the "
      "device)"))
      << Diagnostics();
  // The decision file says so too, in its published schema.
  const std::string file = dir_.File("decision.json");
  EXPECT_TRUE(absl::StrContains(ReadFile(file), R"("source":"agent")"));
  EXPECT_TRUE(
      absl::StrContains(ReadFile(file), "DECISION_STATE_DEVICE_CONTROL"))
      << ReadFile(file);
  CommandResult valid = RunCommand(
      {"/usr/bin/python3", "-c",
       "import json, sys, jsonschema\n"
       "jsonschema.validate(json.load(open(sys.argv[2])),"
       " json.load(open(sys.argv[1])))",
       SIPRESOLVER_SOURCE_DIR "/docs/decision-file.schema.json", file});
  EXPECT_EQ(valid.exit_status, 0) << valid.output << ReadFile(file);

  // In device control a report moves nothing. A bad line after it in the
  // same datagram is logged once the report has been dealt with (both
  // agents take a datagram's lines in order).
  ASSERT_TRUE(SendDatagram(dir_.File("report"),
                           absl::StrCat(Registrar(0), " 408\nnot a report\n"))
                  .ok());
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(agent_->Output(), "bad line \"not a report\"");
  })) << Diagnostics();
  EXPECT_FALSE(absl::StrContains(agent_->Output(), "local failover"))
      << Diagnostics();

  // The service is back: its decision applies as sent.
  ASSERT_TRUE(stack_->daemon().Restart().ok());
  const int back = WaitForRun(control + 1, "active", "service", kServiceBack);
  ASSERT_GE(back, 0) << Diagnostics();
  EXPECT_FALSE(HookRuns()[back].primary.empty()) << Diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Agents, AgentWithoutServiceTest,
                         ::testing::Values(AgentKind::kWatch,
                                           AgentKind::kDevice),
                         [](const ::testing::TestParamInfo<AgentKind>& info) {
                           return AgentName(info.param);
                         });

}  // namespace
}  // namespace sipresolver::testing
