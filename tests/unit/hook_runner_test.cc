// HookRunner with a real /bin/sh: environment, latest-wins slot, the
// timeout ending the hook's whole process group, the signal mask a hook
// gets, where its output goes, and what is counted.
#include "client/hook_runner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::client {
namespace {

using ::sipresolver::testing::Eventually;
using ::sipresolver::testing::TempDir;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class HookRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hook_runner_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }
  HookRunner::Options Hook(const std::string& command) {
    HookRunner::Options o;
    o.command = absl::StrCat("LOG='", dir_.File("log"), "'; GATE='",
                             dir_.File("gate"), "'; ", command);
    o.log = [this](const std::string& m) { logged_ += m + "\n"; };
    return o;
  }
  std::string log() { return Read(dir_.File("log")); }

  TempDir dir_;
  std::string logged_;  // Written by the runner's thread; read when idle.
};

TEST_F(HookRunnerTest, DecisionReachesTheHookAsEnvironment) {
  setenv("SIPRESOLVER_TEST_INHERITED", "kept", 1);
  HookRunner runner(Hook(
      R"(echo "$SIPRESOLVER_STATE $SIPRESOLVER_PRIMARY $SIPRESOLVER_TEST_INHERITED" >> "$LOG")"));
  runner.Submit(
      {"SIPRESOLVER_STATE=active", "SIPRESOLVER_PRIMARY=192.0.2.1:5060"});
  runner.WaitIdle();
  EXPECT_EQ(log(), "active 192.0.2.1:5060 kept\n");
  EXPECT_EQ(runner.stats().runs, 1);
  EXPECT_EQ(runner.stats().failures, 0);
}

TEST_F(HookRunnerTest, SlowHookGetsOnlyTheNewestDecisionNext) {
  // The first run waits for the gate; meanwhile two decisions arrive.
  HookRunner runner(Hook(R"(echo "$V" >> "$LOG"
    if [ "$V" = first ]; then while [ ! -e "$GATE" ]; do sleep 0.01; done; fi)"));
  runner.Submit({"V=first"});
  ASSERT_TRUE(Eventually([&] { return log() == "first\n"; }));
  runner.Submit({"V=stale"});  // Returns at once: nothing waits on a hook.
  runner.Submit({"V=newest"});
  std::ofstream(dir_.File("gate")).put('\n');
  runner.WaitIdle();
  EXPECT_EQ(log(), "first\nnewest\n");
  EXPECT_EQ(runner.stats().runs, 2);
  EXPECT_EQ(runner.stats().superseded, 1);
  EXPECT_NE(logged_.find("newer decision replaced"), std::string::npos);
}

TEST_F(HookRunnerTest, TimeoutEndsTheHookWithItsChildren) {
  HookRunner::Options options = Hook(R"(sleep 1000 & echo $! > "$LOG"; wait)");
  SimulatedClock clock;
  options.clock = &clock;
  options.timeout = absl::Seconds(30);  // The behaviour under test.
  HookRunner runner(options);
  runner.Submit({});
  ASSERT_TRUE(Eventually([&] { return !log().empty(); }));  // It runs.
  clock.Advance(absl::Seconds(29));
  EXPECT_EQ(runner.stats().timeouts, 0);
  clock.Advance(absl::Seconds(1));
  runner.WaitIdle();
  EXPECT_EQ(runner.stats().timeouts, 1);
  EXPECT_NE(logged_.find("killed with its process group"), std::string::npos);
  int child = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(log()), &child))
      << log();
  // The background child went with the shell (no orphan keeps running).
  EXPECT_TRUE(Eventually([&] {
    const std::string stat = Read(absl::StrCat("/proc/", child, "/stat"));
    return stat.empty() || stat.find(") Z ") != std::string::npos;
  }));
}

TEST_F(HookRunnerTest, HookGetsDefaultSignalsWhateverTheCallerBlocks) {
  // The CLI blocks SIGTERM for its own sigwait; the runner's thread inherits
  // that mask, the hook must not.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  {
    HookRunner runner(
        Hook(R"(kill -TERM $$; sleep 2; echo survived >> "$LOG")"));
    runner.Submit({});
    runner.WaitIdle();
    EXPECT_EQ(runner.stats().failures, 1);
    EXPECT_NE(logged_.find("ended by signal 15"), std::string::npos) << logged_;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(log(), "");
}

TEST_F(HookRunnerTest, OutputGoesWhereTheCallerSays) {
  const std::string out = dir_.File("out");
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  HookRunner::Options options = Hook("echo to-stdout; echo to-stderr >&2");
  options.output_fd = fd;
  {
    HookRunner runner(options);
    runner.Submit({});
    runner.WaitIdle();
  }
  close(fd);
  EXPECT_EQ(Read(out), "to-stdout\nto-stderr\n");
}

TEST_F(HookRunnerTest, FailingHookIsCountedAndTheNextStillRuns) {
  HookRunner runner(Hook(R"(echo "$V" >> "$LOG"; exit 3)"));
  runner.Submit({"V=one"});
  runner.WaitIdle();
  runner.Submit({"V=two"});
  runner.WaitIdle();
  EXPECT_EQ(log(), "one\ntwo\n");
  EXPECT_EQ(runner.stats().failures, 2);
  EXPECT_NE(logged_.find("exited with status 3"), std::string::npos);
}

TEST_F(HookRunnerTest, DecisionHandedOverIsAppliedBeforeTheRunnerGoes) {
  {
    HookRunner runner(Hook(R"(sleep 0.2; echo "$V" >> "$LOG")"));
    runner.Submit({"V=one"});
    runner.Submit({"V=two"});
  }  // Destroyed at once: still applies the newest decision.
  EXPECT_NE(log().find("two"), std::string::npos) << log();
}

}  // namespace
}  // namespace sipresolver::client
