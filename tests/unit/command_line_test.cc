// The `sipresolver` command line, whatever the command: finding the
// command, usage errors, the check of flag syntax and RPC errors.
#include "client/command_line.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

// Flags for CheckFlagSyntax, named so they cannot clash with the real ones.
ABSL_FLAG(uint32_t, cli_test_port, 0, "test only");
ABSL_FLAG(bool, cli_test_bool, false, "test only");

namespace sipresolver::cli {
namespace {

int RunNothing(const std::vector<std::string>&) { return kExitOk; }

constexpr Command kTestCommands[] = {
    {"resolve", "NAME [--json]", "Resolve NAME.", RunNothing},
    {"servers", "", "List servers.", RunNothing},
};

TEST(CommandLineTest, FindCommandByName) {
  absl::StatusOr<const Command*> command =
      FindCommand(kTestCommands, {"servers"});
  ASSERT_TRUE(command.ok());
  EXPECT_EQ((*command)->name, "servers");
  EXPECT_EQ(FindCommand(kTestCommands, {}).status().message(),
            "missing command");
  EXPECT_EQ(FindCommand(kTestCommands, {"resolv", "x"}).status().message(),
            "unknown command 'resolv'");
}

TEST(CommandLineTest, UsageErrorShowsReasonAndUsage) {
  EXPECT_EQ(FormatUsageError("missing command", kTestCommands),
            "sipresolver: missing command\n"
            "usage: sipresolver [--server=HOST:PORT] [--timeout=5s] resolve "
            "NAME [--json]\n"
            "       sipresolver [--server=HOST:PORT] [--timeout=5s] servers\n"
            "Run 'sipresolver --help' for details.\n");
}

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& arg : args) argv.push_back(arg.data());
  return argv;
}

absl::Status Check(std::vector<std::string> args) {
  args.insert(args.begin(), "sipresolver");
  const std::vector<char*> argv = Argv(args);
  return CheckFlagSyntax(argv);
}

TEST(CommandLineTest, FlagSyntaxErrorsAreUsageErrors) {
  EXPECT_EQ(Check({"resolve", "--no_such_flag"}).message(),
            "unknown flag --no_such_flag");
  EXPECT_EQ(Check({"--cli_test_port=abc"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check({"--cli_test_port"}).message(),
            "missing value for --cli_test_port");
  EXPECT_EQ(Check({"--cli_test_bool=maybe"}).code(),
            absl::StatusCode::kInvalidArgument);
  // "no" negates booleans only.
  EXPECT_EQ(Check({"--nocli_test_port"}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommandLineTest, FlagSyntaxAcceptsWhatAbslAccepts) {
  EXPECT_TRUE(Check({"resolve", "x", "--cli_test_port", "7"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_port), 7u);
  EXPECT_TRUE(Check({"-cli_test_bool", "--nocli_test_bool"}).ok());
  EXPECT_TRUE(Check({"--help"}).ok());  // absl's usage flags.
  EXPECT_TRUE(Check({"--", "--not_a_flag", "-x"}).ok());
  EXPECT_TRUE(Check({"-"}).ok());
}

TEST(CommandLineTest, RpcErrorNamesTheCode) {
  EXPECT_EQ(FormatRpcError(absl::NotFoundError("no A record for x.example")),
            "sipresolver: NOT_FOUND: no A record for x.example\n");
  EXPECT_EQ(FormatRpcError(absl::Status(absl::StatusCode::kUnavailable, "")),
            "sipresolver: UNAVAILABLE\n");
}

}  // namespace
}  // namespace sipresolver::cli
