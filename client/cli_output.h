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
#include "absl/time/time.h"
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

// `servers` takes no positionals (args are those after "servers").
// InvalidArgument means a usage error.
absl::Status CheckServersArgs(const std::vector<std::string>& args);

// Display names used in the servers table: "udp", "tcp", "tls" (unspecified
// is UDP); "unknown", "healthy", "unhealthy". "?" for values newer than this
// client.
absl::string_view TransportName(v1::Transport transport);
absl::string_view HealthStateName(v1::HealthState state);

// How long ago, compact: "12s ago", "5m07s ago", "3h05m ago", "2d03h ago".
// A negative age (clocks apart) is "0s ago".
std::string FormatAge(absl::Duration age);
// A latency in milliseconds: "0.25ms", "3.1ms", "125ms"; "-" for zero or less
// (no response measured yet).
std::string FormatLatency(absl::Duration latency);
// What the last probe got: the response code ("401"), followed by the error
// when it says more than the code; the error alone when no response came
// ("no final response within 2s"); "-" before the first probe.
std::string FormatLastResult(const v1::EndpointHealth& health);

// The servers table: ADDRESS PORT TRANSPORT STATE LAST LATENCY SINCE
// DOMAINS, one row per endpoint in the server's order. LATENCY is the moving
// average (EWMA) of the response time, SINCE the time from the last state
// change to `now` (the wall clock). An IP-literal server (no domain) shows as
// "(IP literal)" under DOMAINS. Ends in "\n".
std::string FormatServersTable(const v1::ListServersResponse& response,
                               absl::Time now);

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

#endif  // SIPRESOLVER_CLIENT_CLI_OUTPUT_H_
