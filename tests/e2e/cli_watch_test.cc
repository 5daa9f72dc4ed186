// `sipresolver watch` against the real sipresolverd and Kamailio: what a
// device integrator scripts around.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

class CliWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = RegistrarStack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    pbx_ = &stack_->registrar(0);
    daemon_ = &stack_->daemon();
    dir_ = "/tmp/sipresolver-watch-" + std::to_string(getpid());
    mkdir(dir_.c_str(), 0700);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  CommandResult Watch(std::vector<std::string> args) {
    args.insert(args.begin(), {SIPRESOLVER_CLI_PATH,
                               "--server=" + daemon_->grpc_address(), "watch"});
    return RunCommand(args, absl::Seconds(20));
  }

  std::unique_ptr<RegistrarStack> stack_;
  KamailioServer* pbx_ = nullptr;  // Owned by stack_, as is daemon_.
  SipresolverdProcess* daemon_ = nullptr;
  std::string dir_;
};

TEST_F(CliWatchTest, AppliesTheDecisionToFileHookAndOutput) {
  const std::string file = dir_ + "/decision.json", hooked = dir_ + "/hooked";
  CommandResult r =
      Watch({"--profile={\"proxy_server\":\"itsp.test\",\"proxy_server_"
             "redundancy\":true}",
             "--agent_id=device-1", "--once", "--output_file=" + file,
             "--hook=echo \"$SIPRESOLVER_STATE $SIPRESOLVER_PRIMARY "
             "$SIPRESOLVER_PRIMARY_TARGET $SIPRESOLVER_PRIMARY_TRANSPORT "
             "$SIPRESOLVER_ASSURANCE\" >> " +
                 hooked});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const std::string primary = "127.0.0.1:" + std::to_string(pbx_->port());
  // "active: primary ...", or on a machine too busy for the probes' 300 ms
  // "active (unconfirmed: ...): primary ..." (fail static): same primary.
  EXPECT_NE(r.output.find("primary " + primary), std::string::npos) << r.output;
  EXPECT_NE(ReadFile(file).find("\"state\":\"DECISION_STATE_ACTIVE\""),
            std::string::npos)
      << ReadFile(file);
  // The file is what its published schema says.
  CommandResult valid = RunCommand(
      {"/usr/bin/python3", "-c",
       "import json, sys, jsonschema\n"
       "jsonschema.validate(json.load(open(sys.argv[2])),"
       " json.load(open(sys.argv[1])))",
       SIPRESOLVER_SOURCE_DIR "/docs/decision-file.schema.json", file});
  EXPECT_EQ(valid.exit_status, 0) << valid.output << ReadFile(file);
  const std::string hook = ReadFile(hooked);
  EXPECT_NE(hook.find("active " + primary + " pbx.test udp "),
            std::string::npos)
      << hook;
  // Only the active decision was applied: no "searching" run at the start.
  EXPECT_EQ(hook.find("searching"), std::string::npos) << hook;
  EXPECT_TRUE(absl::StrContains(hook, " probes") ||
              absl::StrContains(hook, " unconfirmed"))
      << hook;
}

// Fail static: the registrar bans the prober; watch still hands the device
// its own choice and says that it is unconfirmed.
TEST_F(CliWatchTest, UnconfirmedDecisionIsAppliedAndSaysSo) {
  KamailioConfig banned;
  banned.drop_user_agent = "sipresolver-probe";
  ASSERT_TRUE(pbx_->Restart(banned).ok());
  const std::string hooked = dir_ + "/hooked";
  CommandResult r = Watch(
      {"--profile={\"proxy_server\":\"itsp.test\",\"proxy_server_redundancy\":"
       "true}",
       "--agent_id=device-1", "--once",
       "--hook=echo \"$SIPRESOLVER_ASSURANCE $SIPRESOLVER_PROBE_PATH_SUSPECT "
       "$SIPRESOLVER_PRIMARY\" >> " +
           hooked});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const std::string primary = "127.0.0.1:" + std::to_string(pbx_->port());
  EXPECT_NE(
      r.output.find("active (unconfirmed: the device's own choice): primary " +
                    primary),
      std::string::npos)
      << r.output;
  EXPECT_NE(ReadFile(hooked).find("unconfirmed 0 " + primary),
            std::string::npos)
      << ReadFile(hooked);
}

TEST_F(CliWatchTest, ProfileFromAFileAndJsonOutput) {
  const std::string profile = dir_ + "/profile.json";
  std::ofstream(profile) << R"({"proxy_server": "itsp.test"})";
  CommandResult r = Watch({"--profile=@" + profile, "--once", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("\"primary\":{"), std::string::npos) << r.output;
}

TEST_F(CliWatchTest, RunsUntilInterruptedThenExitsCleanly) {
  auto watch = Subprocess::Start(
      {SIPRESOLVER_CLI_PATH, "--server=" + daemon_->grpc_address(), "watch",
       "--profile={\"proxy_server\":\"itsp.test\"}"});
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*watch)->WaitForOutput(": primary", absl::Seconds(10)))
      << (*watch)->Output();
  (*watch)->Signal(SIGINT);
  EXPECT_EQ((*watch)->Wait(absl::Seconds(10)), 0);
}

TEST_F(CliWatchTest, UsageErrors) {
  EXPECT_EQ(Watch({}).exit_status, 2);
  EXPECT_EQ(Watch({"--profile={not json"}).exit_status, 2);
  CommandResult missing = Watch({"--profile=@/nonexistent/profile.json"});
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_NE(missing.output.find("--profile: cannot read"), std::string::npos)
      << missing.output;
  EXPECT_EQ(
      Watch({"--profile={\"proxy_server\":\"x.test\"}", "--spread=random"})
          .exit_status,
      2);
  EXPECT_EQ(Watch({"--profile={\"proxy_server\":\"x.test\"}",
                   "--device_control_after=-1s"})
                .exit_status,
            2);
  EXPECT_EQ(
      Watch({"--profile={\"proxy_server\":\"x.test\"}", "--hook_timeout=0s"})
          .exit_status,
      2);
}

// A hook still running at --hook_timeout is killed and reported on stderr;
// with --once the command still ends (it waits for the last hook, bounded by
// the timeout) with status 0.
TEST_F(CliWatchTest, HookPastHookTimeoutIsKilledAndReported) {
  CommandResult r = Watch({"--profile={\"proxy_server\":\"itsp.test\"}",
                           "--once", "--hook_timeout=1s", "--hook=sleep 1000"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("sipresolver: hook ran longer than 1s and was "
                          "killed with its process group"),
            std::string::npos)
      << r.output;
}

// A --report_socket path that holds something else is never replaced.
TEST_F(CliWatchTest, ReportSocketOverAFileIsRefused) {
  const std::string path = dir_ + "/not-a-socket";
  std::ofstream(path) << "precious\n";
  CommandResult r = Watch({"--profile={\"proxy_server\":\"itsp.test\"}",
                           "--report_socket=" + path});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("exists and is not a socket"), std::string::npos)
      << r.output;
  EXPECT_EQ(ReadFile(path), "precious\n");
}

TEST_F(CliWatchTest, InvalidProfileIsAnRpcError) {
  CommandResult r = Watch({"--profile={\"proxy_server\":\"bad name\"}"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("INVALID_ARGUMENT"), std::string::npos) << r.output;
}

// A hook's output goes to stderr: with --json, stdout stays one decision
// (one JSON object) per line for the program that reads it.
TEST_F(CliWatchTest, JsonOutputCarriesOnlyDecisionsWhateverTheHookPrints) {
  const std::string profile = dir_ + "/profile.json";
  std::ofstream(profile) << R"({"proxy_server": "itsp.test"})";
  const std::string stdout_only = absl::StrCat(
      "exec '", SIPRESOLVER_CLI_PATH, "' --server=", daemon_->grpc_address(),
      " watch --profile=@", profile,
      " --once --json --hook='echo from-the-hook' 2>/dev/null");
  CommandResult r =
      RunCommand({"/bin/sh", "-c", stdout_only}, absl::Seconds(20));
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output.find("from-the-hook"), std::string::npos) << r.output;
  for (absl::string_view line :
       absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "{") && absl::EndsWith(line, "}"))
        << line;
  }
}

}  // namespace
}  // namespace sipresolver::testing
