#include "client/cli_output.h"

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// Lays rows out in columns two spaces apart. The last column is never padded
// and trailing blanks (empty last cells) are trimmed, so lines end cleanly.
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_align,
                          absl::string_view indent) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      const size_t pad = width[i] - row[i].size();
      const bool right = i < right_align.size() && right_align[i];
      if (right) line.append(pad, ' ');
      line += row[i];
      if (!right && i + 1 < row.size()) line.append(pad, ' ');
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

std::string Seconds(uint32_t seconds) { return absl::StrCat(seconds, "s"); }

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
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

absl::StatusOr<v1::Transport> ParseTransport(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower.empty()) return v1::TRANSPORT_UNSPECIFIED;
  if (lower == "udp") return v1::TRANSPORT_UDP;
  if (lower == "tcp") return v1::TRANSPORT_TCP;
  if (lower == "tls") return v1::TRANSPORT_TLS;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --transport '", text, "': want udp, tcp or tls"));
}

absl::StatusOr<v1::IpVersion> ParseIpVersion(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower.empty()) return v1::IP_VERSION_UNSPECIFIED;
  if (lower == "v4") return v1::IP_VERSION_V4;
  if (lower == "v6") return v1::IP_VERSION_V6;
  if (lower == "dual") return v1::IP_VERSION_DUAL;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --ip_version '", text, "': want v4, v6 or dual"));
}

absl::StatusOr<v1::ResolveRequest> MakeResolveRequest(
    const std::vector<std::string>& args, const ResolveFlags& flags) {
  if (args.empty()) return absl::InvalidArgumentError("resolve: missing NAME");
  if (args.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolve: unexpected argument '", args[1], "'"));
  }
  if (args[0].empty()) return absl::InvalidArgumentError("resolve: empty NAME");
  if (flags.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --port ", flags.port, ": want 1-65535, or 0 for the default"));
  }
  absl::StatusOr<v1::Transport> transport = ParseTransport(flags.transport);
  if (!transport.ok()) return transport.status();
  absl::StatusOr<v1::IpVersion> ip_version = ParseIpVersion(flags.ip_version);
  if (!ip_version.ok()) return ip_version.status();

  v1::ResolveRequest request;
  request.set_server(args[0]);
  request.set_port(flags.port);
  request.set_transport(*transport);
  request.set_redundancy(flags.redundancy);
  request.set_ip_version(*ip_version);
  return request;
}

absl::string_view CandidateSourceName(v1::CandidateSource source) {
  switch (source) {
    case v1::CANDIDATE_SOURCE_A:
      return "A";
    case v1::CANDIDATE_SOURCE_AAAA:
      return "AAAA";
    case v1::CANDIDATE_SOURCE_SRV:
      return "SRV";
    case v1::CANDIDATE_SOURCE_SRV_SIP_UDP:
      return "SRV _sip._udp";
    case v1::CANDIDATE_SOURCE_IP_LITERAL:
      return "IP literal";
    default:
      return "?";  // Unspecified, or newer than this client.
  }
}

absl::string_view RecordTypeName(v1::RecordType type) {
  switch (type) {
    case v1::RECORD_TYPE_A:
      return "A";
    case v1::RECORD_TYPE_AAAA:
      return "AAAA";
    case v1::RECORD_TYPE_SRV:
      return "SRV";
    case v1::RECORD_TYPE_CNAME:
      return "CNAME";
    default:
      return "?";
  }
}

absl::string_view LookupOutcomeName(v1::LookupOutcome outcome) {
  switch (outcome) {
    case v1::LOOKUP_OUTCOME_ANSWER:
      return "answer";
    case v1::LOOKUP_OUTCOME_NXDOMAIN:
      return "NXDOMAIN";
    case v1::LOOKUP_OUTCOME_NODATA:
      return "NODATA";
    case v1::LOOKUP_OUTCOME_NO_SERVICE:
      return "no service";
    case v1::LOOKUP_OUTCOME_UNAVAILABLE:
      return "unavailable";
    default:
      return "?";
  }
}

std::string FormatResolveTable(const v1::ResolveResponse& response) {
  std::string out;
  if (response.candidates().empty()) {
    out = "No candidates.\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"#", "ADDRESS", "PORT",
                                                   "PRIORITY", "WEIGHT",
                                                   "SOURCE", "TTL", "TARGET"}};
    int index = 0;
    for (const v1::Candidate& c : response.candidates()) {
      rows.push_back({absl::StrCat(++index), c.address(),
                      absl::StrCat(c.port()), absl::StrCat(c.priority()),
                      absl::StrCat(c.weight()),
                      std::string(CandidateSourceName(c.source())),
                      Seconds(c.ttl_seconds()), c.target()});
    }
    // Numbers right-aligned so their digits line up.
    out = FormatColumns(
        rows, {true, false, true, true, true, false, true, false}, "");
  }

  if (response.lookups().empty()) return out + "\nLookups: none\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::Lookup& l : response.lookups()) {
    // Stale answers come from the cache too; "stale" says more.
    const char* marker = l.stale() ? "stale" : l.from_cache() ? "cache" : "";
    rows.push_back({l.name(), std::string(RecordTypeName(l.type())),
                    std::string(LookupOutcomeName(l.outcome())),
                    Seconds(l.ttl_seconds()), marker, l.detail()});
  }
  return absl::StrCat(
      out, "\nLookups:\n",
      FormatColumns(rows, {false, false, false, true, false, false}, "  "));
}

absl::Status CheckServersArgs(const std::vector<std::string>& args) {
  if (args.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("servers: unexpected argument '", args[0], "'"));
}

absl::string_view TransportName(v1::Transport transport) {
  switch (transport) {
    case v1::TRANSPORT_UNSPECIFIED:  // Means UDP (S12).
    case v1::TRANSPORT_UDP:
      return "udp";
    case v1::TRANSPORT_TCP:
      return "tcp";
    case v1::TRANSPORT_TLS:
      return "tls";
    default:
      return "?";
  }
}

absl::string_view HealthStateName(v1::HealthState state) {
  switch (state) {
    case v1::HEALTH_STATE_UNKNOWN:
      return "unknown";
    case v1::HEALTH_STATE_HEALTHY:
      return "healthy";
    case v1::HEALTH_STATE_UNHEALTHY:
      return "unhealthy";
    default:
      return "?";
  }
}

std::string FormatAge(absl::Duration age) {
  const int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(age));
  if (s < 60) return absl::StrCat(s, "s ago");
  if (s < 3600) return absl::StrFormat("%dm%02ds ago", s / 60, s % 60);
  if (s < 86400)
    return absl::StrFormat("%dh%02dm ago", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh ago", s / 86400, s % 86400 / 3600);
}

std::string FormatLatency(absl::Duration latency) {
  if (latency <= absl::ZeroDuration()) return "-";
  const double ms = absl::ToDoubleMilliseconds(latency);
  if (ms < 1) return absl::StrFormat("%.2fms", ms);
  if (ms < 10) return absl::StrFormat("%.1fms", ms);
  return absl::StrFormat("%.0fms", ms);
}

std::string FormatLastResult(const v1::EndpointHealth& health) {
  const uint32_t code = health.last_response_code();
  const std::string& error = health.last_error();
  if (code == 0) return error.empty() ? "-" : error;
  // The service words an error reply "answered 503": the code says it all.
  if (error.empty() || error == absl::StrCat("answered ", code)) {
    return absl::StrCat(code);
  }
  return absl::StrCat(code, " ", error);
}

std::string FormatServersTable(const v1::ListServersResponse& response,
                               absl::Time now) {
  if (response.servers().empty()) {
    return "No servers are probed: a server is probed while an agent watches "
           "a profile that\nneeds it and --probe_allow allows it.\n";
  }
  std::vector<std::vector<std::string>> rows = {{"ADDRESS", "PORT", "TRANSPORT",
                                                 "STATE", "LAST", "LATENCY",
                                                 "SINCE", "DOMAINS"}};
  for (const v1::ServerStatus& s : response.servers()) {
    const v1::EndpointHealth& h = s.health();
    std::vector<std::string> domains;
    for (const std::string& d : s.domains()) {
      domains.push_back(d.empty() ? "(IP literal)" : d);
    }
    rows.push_back(
        {s.endpoint().address(), absl::StrCat(s.endpoint().port()),
         std::string(TransportName(s.endpoint().transport())),
         std::string(HealthStateName(h.state())), FormatLastResult(h),
         FormatLatency(FromProto(h.latency_ewma())),
         h.has_last_change() ? FormatAge(now - FromProto(h.last_change()))
                             : "-",
         domains.empty() ? "-" : absl::StrJoin(domains, ",")});
  }
  std::string out = FormatColumns(
      rows, {false, true, false, false, false, true, true, false}, "");
  // Fail static: where the probes and the devices disagree, and why.
  for (const v1::ServerStatus& s : response.servers()) {
    const v1::EndpointHealth& h = s.health();
    if (h.state() != v1::HEALTH_STATE_UNHEALTHY || h.device_successes() == 0)
      continue;
    const bool counted = h.decision_state() == v1::HEALTH_STATE_HEALTHY;
    absl::StrAppend(
        &out, "\n", s.endpoint().address(), ":", s.endpoint().port(),
        ": probes fail but ", h.device_successes(),
        h.device_successes() == 1 ? " device registers" : " devices register",
        " there", counted ? " (decisions count it as working)" : "",
        ": is the service banned by the ITSP or its egress blocked?");
  }
  if (response.probe_path_suspect()) {
    absl::StrAppend(
        &out, "\nProbe path suspect: ",
        absl::StrFormat("%.0f", 100 * response.probe_healthy_ratio()),
        "% of the probed endpoints are healthy, failures span several "
        "domains; every decision is unconfirmed (fail static).");
  }
  return out;
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
