// The device agent's command line: the form `sipresolver watch` takes, the
// checks that make a bad one a usage error.
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" {
#include "flags.h"
}

namespace sipresolver {
namespace {

// The parsed flags point into argv, as into a real process's: the last
// command line parsed stays alive here.
std::vector<std::string> g_args;

int Parse(std::vector<std::string> args, agent_flags& flags,
          std::string* error = nullptr) {
  args.insert(args.begin(), "sipresolver-agent");
  g_args = std::move(args);
  std::vector<char*> argv;
  for (std::string& a : g_args) argv.push_back(a.data());
  char text[256] = "";
  const int rc = flags_parse(static_cast<int>(argv.size()), argv.data(), &flags,
                             text, sizeof text);
  if (error) *error = text;
  return rc;
}

TEST(AgentFlagsTest, DefaultsAndTheFormsWatchTakes) {
  agent_flags f;
  ASSERT_EQ(Parse({"--profile={}", "--json", "--once=false", "--hook",
                   "echo hi", "--stall_timeout=1m30s"},
                  f),
            0);
  EXPECT_STREQ(f.server, "localhost:50051");
  EXPECT_STREQ(f.hook, "echo hi");
  EXPECT_EQ(f.json, 1);
  EXPECT_EQ(f.once, 0);
  EXPECT_EQ(f.stall_timeout_ms, 90000);
  EXPECT_EQ(f.keepalive_time_ms, 45000);
  EXPECT_EQ(f.hook_timeout_ms, 30000);
  EXPECT_EQ(f.device_control_after_ms, 0);
  ASSERT_EQ(Parse({"--nojson", "--device_control_after=10m"}, f), 0);
  EXPECT_EQ(f.json, 0);
  EXPECT_EQ(f.device_control_after_ms, 600000);
}

TEST(AgentFlagsTest, Durations) {
  EXPECT_EQ(flags_parse_duration_ms("500ms"), 500);
  EXPECT_EQ(flags_parse_duration_ms("1.5s"), 1500);
  EXPECT_EQ(flags_parse_duration_ms("1h2m3s"), 3723000);
  EXPECT_EQ(flags_parse_duration_ms("0"), 0);
  for (const char* bad : {"", "5", "-1s", "s", "1x", "1s2", "inf"})
    EXPECT_EQ(flags_parse_duration_ms(bad), -1) << bad;
}

TEST(AgentFlagsTest, UsageErrorsNameTheFlag) {
  agent_flags f;
  std::string error;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus=1"}, "unknown flag --bogus"},
      {{"positional"}, "unexpected argument"},
      {{"--hook"}, "--hook needs a value"},
      {{"--json=maybe"}, "--json"},
      {{"--stall_timeout=soon"}, "--stall_timeout"},
      {{"--keepalive_time=5s"}, "--keepalive_time must be at least 10s"},
      {{"--tls_cert_file=c.pem", "--tls_ca_file=ca.pem"}, "go together"},
      {{"--tls_server_name=x"}, "need --tls_ca_file"},
      {{"--report=1.2.3.4:5 200"}, "--report needs --report_socket"},
      {{"--max_message_bytes=12"}, "--max_message_bytes"},
  };
  for (const auto& [args, wanted] : cases) {
    EXPECT_EQ(Parse(args, f, &error), -1) << args[0];
    EXPECT_NE(error.find(wanted), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace sipresolver
