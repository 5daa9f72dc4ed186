// The `sipresolver` command line, whatever the command: the command table,
// the usage text and usage errors, the check of flag syntax, exit statuses,
// --json output, reading a file a flag names and RPC errors. Nothing here
// talks to the network.
#ifndef SIPRESOLVER_CLIENT_COMMAND_LINE_H_
#define SIPRESOLVER_CLIENT_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"

namespace sipresolver::cli {

// Exit statuses, distinct so scripts can tell "the server said no" from
// "the command line was wrong".
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;
inline constexpr int kExitUsage = 2;

inline constexpr absl::string_view kProgramName = "sipresolver";

// One subcommand. New commands (watch, servers) are one more table entry.
struct Command {
  absl::string_view name;
  absl::string_view synopsis;  // What follows the name in the usage line.
  absl::string_view summary;   // For --help; may hold "\n".
  // Receives the positionals after the name; returns the exit status.
  int (*run)(const std::vector<std::string>& args);
};

// "usage: sipresolver [--server=HOST:PORT] [--timeout=5s] <command> ...",
// one line per command, no trailing newline.
std::string UsageLine(absl::Span<const Command> commands);
// The full text for absl::SetProgramUsageMessage: usage, commands, output
// format, exit statuses.
std::string ProgramUsage(absl::Span<const Command> commands);
// What to print on stderr for a usage error: the reason, the usage line and
// a pointer to --help.
std::string FormatUsageError(absl::string_view reason,
                             absl::Span<const Command> commands);

// Picks the command named by positionals[0] (the program name already
// removed). InvalidArgument when it is missing or unknown.
absl::StatusOr<const Command*> FindCommand(
    absl::Span<const Command> commands,
    absl::Span<const std::string> positionals);

// absl::ParseCommandLine exits with status 1 on an unknown flag or a bad flag
// value, which would read as an RPC error. This checks the same things first
// (flag names and values, up to "--") so main can exit 2 instead. Valid values
// are stored in the flags, exactly as the parse that follows would store them.
absl::Status CheckFlagSyntax(absl::Span<char* const> argv);

// One-line JSON (proto3 mapping): proto field names (ttl_seconds), fields at
// their default value omitted, enums by name. Ends in "\n".
absl::StatusOr<std::string> FormatJson(
    const google::protobuf::Message& message);

// The whole file; INVALID_ARGUMENT "<what>: cannot read <path>" otherwise.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          absl::string_view what);

// "sipresolver: NOT_FOUND: <message>\n" for a failed RPC. The codes of
// absl::Status and grpc::Status are the same numbers.
std::string FormatRpcError(const absl::Status& status);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_COMMAND_LINE_H_
