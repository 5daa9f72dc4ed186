#include "client/command_line.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace sipresolver::cli {
namespace {

constexpr absl::string_view kGlobalFlags =
    "[--server=HOST:PORT] [--timeout=5s]";

// absl's --help family: not in the flag registry, handled by the parse itself.
bool IsUsageFlag(absl::string_view name) {
  for (absl::string_view usage :
       {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch",
        "version", "only_check_args"}) {
    if (name == usage) return true;
  }
  return false;
}

}  // namespace

std::string UsageLine(absl::Span<const Command> commands) {
  std::vector<std::string> lines;
  for (const Command& command : commands) {
    std::string line =
        absl::StrCat(lines.empty() ? "usage: " : "       ", kProgramName, " ",
                     kGlobalFlags, " ", command.name);
    if (!command.synopsis.empty())
      absl::StrAppend(&line, " ", command.synopsis);
    lines.push_back(std::move(line));
  }
  return absl::StrJoin(lines, "\n");
}

std::string ProgramUsage(absl::Span<const Command> commands) {
  std::string text = absl::StrCat(
      "resolves SIP server names exactly as SIP devices do,\n"
      "by asking a sipresolverd server.\n\n",
      UsageLine(commands), "\n\nCommands:\n");
  for (const Command& command : commands) {
    // Continuation lines of the summary line up under its first line.
    const std::string indent(command.name.size() + 4, ' ');
    absl::StrAppend(&text, "  ", command.name, "  ",
                    absl::StrReplaceAll(command.summary,
                                        {{"\n", absl::StrCat("\n", indent)}}),
                    "\n");
  }
  absl::StrAppend(
      &text,
      "\nThe server is reached in plaintext, or with TLS given --tls_ca_file "
      "(mutual TLS\nwith --tls_cert_file and --tls_key_file). --timeout is "
      "the RPC deadline (e.g.\n500ms, 10s; inf for none).\n\n"
      "Output: resolve prints a table of the candidates, in the order a "
      "device tries\nthem, then every DNS lookup made. servers prints a table "
      "of the probed\nendpoints: STATE healthy, unhealthy or unknown (not "
      "decided yet); LAST the last\nresponse code, or what went wrong; "
      "LATENCY the moving average of the response\ntime; SINCE the time since "
      "STATE last changed. With --json, the response\nmessage as one line of "
      "JSON (proto3 JSON mapping): proto field names such as\nttl_seconds, "
      "enums by name, fields at their default value (0, false, \"\",\n"
      "UNSPECIFIED) omitted.\n\n"
      "Exit status: 0 success; 1 RPC error, printed on stderr as\n\"",
      kProgramName, ": CODE: message\" (also with --json); 2 usage error.");
  return text;
}

std::string FormatUsageError(absl::string_view reason,
                             absl::Span<const Command> commands) {
  return absl::StrCat(kProgramName, ": ", reason, "\n", UsageLine(commands),
                      "\nRun '", kProgramName, " --help' for details.\n");
}

absl::StatusOr<const Command*> FindCommand(
    absl::Span<const Command> commands,
    absl::Span<const std::string> positionals) {
  if (positionals.empty()) return absl::InvalidArgumentError("missing command");
  for (const Command& command : commands) {
    if (command.name == positionals[0]) return &command;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command '", positionals[0], "'"));
}

absl::Status CheckFlagSyntax(absl::Span<char* const> argv) {
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;  // absl stops there too; the rest is positional.
    if (arg.size() < 2 || arg[0] != '-') continue;  // A positional.
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t eq = arg.find('=');
    const absl::string_view name = arg.substr(0, eq);
    if (IsUsageFlag(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      // "--noNAME" turns a boolean flag off.
      absl::string_view positive = name;
      absl::CommandLineFlag* negated = absl::ConsumePrefix(&positive, "no")
                                           ? absl::FindCommandLineFlag(positive)
                                           : nullptr;
      if (negated != nullptr && negated->IsOfType<bool>() &&
          eq == absl::string_view::npos) {
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    absl::string_view value;
    if (eq != absl::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (flag->IsOfType<bool>()) {
      value = "true";
    } else if (i + 1 < argv.size()) {
      value = argv[++i];  // "--port 5060" form.
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("missing value for --", name));
    }
    // List flags (absl's --flagfile, --undefok, ...) accept any text, and
    // setting --flagfile here would make absl read the file twice.
    if (flag->IsOfType<std::vector<std::string>>()) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for --", name, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FormatJson(
    const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;  // One line: one object per invocation.
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = true;  // Match the .proto and docs.
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::InternalError(status.ToString());
  return json + "\n";
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          absl::string_view what) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FormatRpcError(const absl::Status& status) {
  std::string out =
      absl::StrCat(kProgramName, ": ", absl::StatusCodeToString(status.code()));
  if (!status.message().empty()) absl::StrAppend(&out, ": ", status.message());
  return out + "\n";
}

}  // namespace sipresolver::cli
