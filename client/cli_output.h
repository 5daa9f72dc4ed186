// The testable part of the `sipresolver` command-line client: mapping
// arguments to requests, the command table types, and output formatting.
// Nothing here talks to the network.
#ifndef SIPRESOLVER_CLIENT_CLI_OUTPUT_H_
#define SIPRESOLVER_CLIENT_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "sipresolver/v1/sipresolver.pb.h"

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

// The `resolve` flags as typed on the command line.
struct ResolveFlags {
  uint32_t port = 0;
  std::string transport;   // "", udp, tcp, tls.
  std::string ip_version;  // "", v4, v6, dual.
  bool redundancy = false;
};

// Empty means unset: the server then applies the device's default
// (UDP; IPv4 only). InvalidArgument for anything else unknown.
absl::StatusOr<v1::Transport> ParseTransport(absl::string_view text);
absl::StatusOr<v1::IpVersion> ParseIpVersion(absl::string_view text);

// Maps `resolve NAME` (args are the positionals after "resolve") and its flags
// to a request. InvalidArgument means a usage error.
absl::StatusOr<v1::ResolveRequest> MakeResolveRequest(
    const std::vector<std::string>& args, const ResolveFlags& flags);

// Display names used in the table.
absl::string_view CandidateSourceName(v1::CandidateSource source);
absl::string_view RecordTypeName(v1::RecordType type);
absl::string_view LookupOutcomeName(v1::LookupOutcome outcome);

// The candidates table followed by the "Lookups:" section; ends in "\n".
std::string FormatResolveTable(const v1::ResolveResponse& response);

// One-line JSON (proto3 mapping): proto field names (ttl_seconds), fields at
// their default value omitted, enums by name. Ends in "\n".
absl::StatusOr<std::string> FormatJson(const google::protobuf::Message& message);

// "sipresolver: NOT_FOUND: <message>\n" for a failed RPC. The codes of
// absl::Status and grpc::Status are the same numbers.
std::string FormatRpcError(const absl::Status& status);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_CLI_OUTPUT_H_
