// A hostile or broken server never crashes a device: the real
// sipresolver-agent against an HTTP/2 server (H2TestServer) that answers
// every call the way a broken deployment, a proxy or an attacker would.
// What the agent must do: refuse what is too big or garbled, end on a
// permanent error with the server's (decoded, sanitised) message, back off
// instead of spinning, slow its pings when told, declare silent streams and
// connections dead, and kill a hook that never ends with its whole group.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "nghttp2/nghttp2.h"
#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/support/agent_command.h"
#include "tests/support/eventually.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

std::string ActiveDecision(uint64_t version) {
  v1::Decision d;
  d.set_version(version);
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_PROBES);
  v1::Candidate* c = d.add_candidates();
  c->set_address("192.0.2.11");
  c->set_port(5060);
  *d.mutable_primary() = *c;
  return d.SerializeAsString();
}

class AgentHostileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("agent_hostile_server_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  void Serve(std::function<H2Script(int)> script) {
    auto server = H2TestServer::Start(std::move(script));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void StartAgent(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), {R"(--profile={"proxy_server": "itsp.test"})",
                                 "--agent_id=device-1"});
    auto agent = Subprocess::Start(
        AgentCommand(AgentKind::kDevice, server_->address(), flags));
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
  }

  bool Logged(const std::string& text) {
    return Eventually(
        [&] { return absl::StrContains(agent_->Output(), text); });
  }

  // The reconnects the agent announced, in order: true for one at once
  // ("reconnecting in 0ms (at once ...)"), false for a backoff.
  std::vector<bool> Reconnects() {
    std::vector<bool> at_once;
    for (absl::string_view line : absl::StrSplit(agent_->Output(), '\n')) {
      if (absl::StrContains(line, "reconnecting in "))
        at_once.push_back(absl::StrContains(line, "(at once"));
    }
    return at_once;
  }

  TempDir dir_;
  std::unique_ptr<H2TestServer> server_;
  std::unique_ptr<Subprocess> agent_;
};

// A server that refuses every call with GOAWAY: the agent backs off (full
// jitter, growing) instead of reconnecting in a loop.
TEST_F(AgentHostileServerTest, GoawayForEveryCallMeansBackoffNotASpin) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    return H2Script{{H2Step::kGoaway, 0}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--initial_backoff=100ms"}));
  ASSERT_TRUE(Eventually([&] { return Reconnects().size() >= 4; }))
      << agent_->Output();
  for (bool at_once : Reconnects()) EXPECT_FALSE(at_once) << agent_->Output();
  EXPECT_TRUE(agent_->running());
}

// "Reconnect now" from a server that serves nothing: at once the first
// time, never twice in a row.
TEST_F(AgentHostileServerTest, ReconnectNowWithoutServiceIsNotALoop) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    H2Step t{H2Step::kTrailers};
    t.headers = {{"grpc-status", "14"},
                 {"grpc-message", "shutting%20down"},
                 {"sipresolver-reconnect", "now"}};
    return H2Script{t};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--initial_backoff=100ms"}));
  ASSERT_TRUE(Eventually([&] { return Reconnects().size() >= 4; }))
      << agent_->Output();
  const std::vector<bool> at_once = Reconnects();
  EXPECT_TRUE(at_once[0]) << agent_->Output();
  for (size_t i = 1; i < at_once.size(); ++i)
    EXPECT_FALSE(at_once[i] && at_once[i - 1]) << agent_->Output();
  EXPECT_TRUE(Logged("UNAVAILABLE: shutting down"));
}

// A permanent error ends the agent (exit 1) with the server's message,
// percent-decoded and without its control characters.
TEST_F(AgentHostileServerTest, TrailersOnlyInvalidArgumentEndsTheAgent) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    H2Step t{H2Step::kTrailers};
    t.headers = {{"grpc-status", "3"},
                 {"grpc-message", "profile.proxy_server%3A%20bad%0A%1B[31m"}};
    return H2Script{t};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  EXPECT_EQ(agent_->Wait(absl::Seconds(30)), 1) << agent_->Output();
  EXPECT_TRUE(absl::StrContains(
      agent_->Output(), "INVALID_ARGUMENT: profile.proxy_server: bad??[31m"))
      << agent_->Output();
}

// A proxy's error page: an HTTP status and no grpc-status.
TEST_F(AgentHostileServerTest, HttpErrorWithoutGrpcStatusIsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    return H2Script{{H2Step::kHeaders, 503}, {H2Step::kTrailers}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  EXPECT_TRUE(Logged("UNAVAILABLE: HTTP status 503")) << agent_->Output();
}

TEST_F(AgentHostileServerTest, OversizedMessageIsRefusedBeforeItIsRead) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    // A prefix announcing 1 GiB, and a little of it.
    return H2Script{{H2Step::kHeaders, 200},
                    {H2Step::kData, 0,
                     std::string("\0\x40\0\0\0", 5) + std::string(1000, 'x')}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--max_message_bytes=65536"}));
  EXPECT_TRUE(
      Logged("RESOURCE_EXHAUSTED: a response message is over the "
             "limit of 65536 bytes"))
      << agent_->Output();
  EXPECT_TRUE(agent_->running());
}

TEST_F(AgentHostileServerTest, GarbledMessageAndResetAreSurvived) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int call) {
    if (call % 2 == 0) return GrpcCall({std::string("\xff\xff\xff\xff", 4)}, 0);
    return H2Script{{H2Step::kHeaders, 200}, {H2Step::kReset, 2}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--initial_backoff=100ms"}));
  EXPECT_TRUE(Logged("CANCELLED")) << agent_->Output();
  EXPECT_TRUE(Logged("the server reset the stream")) << agent_->Output();
  EXPECT_TRUE(agent_->running());
}

// A server that answers and then says nothing: the stall timeout ends the
// stream.
TEST_F(AgentHostileServerTest, SilentStreamIsBrokenAfterTheStallTimeout) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    return H2Script{{H2Step::kHeaders, 200}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--stall_timeout=1s"}));
  EXPECT_TRUE(Logged("no message within --stall_timeout")) << agent_->Output();
}

// A8: told "too_many_pings", the agent pings half as often from then on.
TEST_F(AgentHostileServerTest, TooManyPingsDoublesTheKeepaliveInterval) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int call) {
    if (call > 0) return GrpcCall({ActiveDecision(1)}, 0);
    return H2Script{
        {H2Step::kGoaway, NGHTTP2_ENHANCE_YOUR_CALM, "too_many_pings"}};
  }));
  ASSERT_NO_FATAL_FAILURE(StartAgent({"--keepalive_time=10s"}));
  EXPECT_TRUE(Logged("keepalive pings every 20s from now on"))
      << agent_->Output();
}

// A peer that stops answering altogether: the keepalive ping goes
// unanswered and the connection is declared dead.
TEST_F(AgentHostileServerTest, UnansweredKeepaliveEndsTheConnection) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    return H2Script{{H2Step::kHeaders, 200},
                    {H2Step::kData, 0, GrpcFrame(ActiveDecision(1))},
                    {H2Step::kSilence}};
  }));
  ASSERT_NO_FATAL_FAILURE(
      StartAgent({"--keepalive_time=10s", "--keepalive_timeout=1s"}));
  EXPECT_TRUE(Logged("keepalive ping not answered")) << agent_->Output();
}

// A hook that never exits is killed with its whole process group at
// --hook_timeout, children included.
TEST_F(AgentHostileServerTest, HookThatNeverEndsIsKilledWithItsGroup) {
  ASSERT_NO_FATAL_FAILURE(Serve([](int) {
    return H2Script{{H2Step::kHeaders, 200},
                    {H2Step::kData, 0, GrpcFrame(ActiveDecision(1))}};
  }));
  const std::string pid_file = dir_.File("child.pid");
  ASSERT_NO_FATAL_FAILURE(
      StartAgent({"--hook_timeout=1s",
                  "--hook=sleep 1000 & echo $! > " + pid_file + "; wait"}));
  EXPECT_TRUE(Logged("killed with its process group")) << agent_->Output();
  const std::string child =
      std::string(absl::StripAsciiWhitespace(ReadFile(pid_file)));
  ASSERT_FALSE(child.empty());
  struct stat st;
  EXPECT_TRUE(Eventually([&] {
    return stat(("/proc/" + child).c_str(), &st) != 0;
  })) << "the hook's child "
      << child << " still runs";
}

}  // namespace
}  // namespace sipresolver::testing
