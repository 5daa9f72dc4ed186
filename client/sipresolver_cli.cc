// sipresolver: command-line client of the sipresolver.v1.SipResolver service.
// Parsing, mapping and formatting live in the *_command and command_line
// files so they can be tested; this file holds the flags, the command table
// and the RPC calls.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/channel_config.h"
#include "client/command_line.h"
#include "client/report_command.h"
#include "client/resolve_command.h"
#include "client/servers_command.h"
#include "client/watch_command.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

ABSL_FLAG(std::string, server, "localhost:50051",
          "Address of the sipresolverd gRPC server, HOST:PORT.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "Deadline of the RPC, e.g. 500ms or 10s; inf for none.");
ABSL_FLAG(bool, json, false,
          "Print the response as one line of JSON (proto field names, fields "
          "at their default value omitted) instead of a table.");
ABSL_FLAG(uint32_t, port, 0,
          "resolve: the configured port; 0 = not configured (5060, or 5061 "
          "for tls).");
ABSL_FLAG(std::string, transport, "",
          "resolve, report: udp, tcp or tls; unset means udp.");
ABSL_FLAG(std::string, ip_version, "",
          "resolve: v4 (A), v6 (AAAA) or dual (A then AAAA); unset means v4, "
          "as the device does.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "Connect with TLS, trusting the CAs in this PEM file.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "Client certificate (PEM) for servers that require mutual TLS.");
ABSL_FLAG(std::string, tls_key_file, "", "Key (PEM) of --tls_cert_file.");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Minutes(1),
          "watch: how often the TLS files are read again, so a renewed "
          "certificate is used from the next connection without a restart.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the server's certificate must carry, when it differs from "
          "--server's host.");
ABSL_FLAG(
    std::string, profile, "",
    "watch: the ItspProfile as JSON, e.g. '{\"proxy_server\": "
    "\"itsp.example.com\", \"proxy_server_redundancy\": true}', or @FILE.");
ABSL_FLAG(std::string, agent_id, "",
          "watch, report: this agent's stable id (1-128 printable "
          "characters); default: derived from /etc/machine-id, as "
          "sipresolver-agent derives it (never the host name).");
ABSL_FLAG(std::string, spread, "",
          "watch: spread (default: agents of a profile spread over equal "
          "servers) or device_order (exactly the device's order).");
ABSL_FLAG(std::string, output_file, "",
          "watch: write each decision the device applies (active, "
          "device_control) to this file atomically: {\"schema\": "
          "\"sipresolver.decision-file/1\", \"source\": \"service\"|\"agent\", "
          "\"decision\": {...}} (docs/decision-file.schema.json).");
ABSL_FLAG(
    std::string, hook, "",
    "watch: run this command (/bin/sh -c) on each decision the device "
    "applies (state active or device_control), one at a time, the newest "
    "first. Its environment, contract 3: SIPRESOLVER_HOOK_CONTRACT=3; "
    "SIPRESOLVER_STATE (active, device_control); SIPRESOLVER_SOURCE (service, "
    "or agent: decided without the service); SIPRESOLVER_ASSURANCE (probes, "
    "device_reports, unconfirmed; empty in device_control); "
    "SIPRESOLVER_PROBE_PATH_SUSPECT (0, 1); SIPRESOLVER_VERSION; "
    "SIPRESOLVER_PRIMARY, SIPRESOLVER_SECONDARY, SIPRESOLVER_KEEPALIVE "
    "(HOST:PORT, IPv6 in brackets) each with _ADDRESS, _PORT, _TRANSPORT "
    "(udp, tcp, tls) and _TARGET (the DNS name), all empty without one (and "
    "in device_control); SIPRESOLVER_PROFILE_SERVER, _PORT (empty: not "
    "configured), _TRANSPORT (the profile's server for redundancy, S3: "
    "what the device resolves itself in device_control); SIPRESOLVER_MAPPED, "
    "SIPRESOLVER_MAPPED_BY (stun, via); SIPRESOLVER_DECISION_FILE (the "
    "--output_file).");
ABSL_FLAG(absl::Duration, hook_timeout, absl::Seconds(30),
          "watch: a hook still running after this is killed with its whole "
          "process group.");
ABSL_FLAG(std::string, report_socket, "",
          "watch: bind this unix datagram socket (mode 0660; a stale one is "
          "replaced) for the device's REGISTER outcomes, one per line: "
          "\"ADDRESS:PORT CODE\" (IPv6 in brackets, CODE the final response "
          "or 0 for none), e.g. printf '192.0.2.11:5060 408\\n' | socat - "
          "UNIX-SENDTO:PATH. Each goes to the service; without the service a "
          "failure moves the device down the candidates itself (S6-S10).");
ABSL_FLAG(absl::Duration, device_control_after, absl::ZeroDuration(),
          "watch: after this long without the service (e.g. 10m), hand "
          "control back to the device's own resolution of the profile's "
          "server (state device_control); 0: never.");
ABSL_FLAG(bool, once, false, "watch: exit after the first active decision.");
ABSL_FLAG(uint32_t, sip_port, 0,
          "watch: the device's SIP port; STUN keep-alives are sent from it "
          "(SO_REUSEPORT) so the mapping is the SIP flow's. 0: any port.");
ABSL_FLAG(absl::Duration, stun_interval, absl::Seconds(30),
          "watch: time between STUN binding requests (profiles with STUN "
          "keep-alives).");
ABSL_FLAG(absl::Duration, stun_rto, absl::Milliseconds(500),
          "watch: STUN retransmission timeout (RFC 5389 RTO; 7 tries).");
ABSL_FLAG(std::string, register_response_file, "",
          "watch: a REGISTER response the device received: its Via "
          "received=/rport= give the mapped address (N1).");
ABSL_FLAG(bool, client_health_check, false,
          "Skip replicas that report NOT_SERVING (gRPC client health "
          "checking), e.g. one draining after SIGTERM. The channel always "
          "uses round robin over every address of --server's name (a "
          "headless Service's pods).");
ABSL_FLAG(bool, redundancy, false,
          "resolve: X_ProxyServerRedundancy. Off: only the first candidate; "
          "on: every candidate (needs a domain name).");

namespace {

namespace cli = sipresolver::cli;
namespace v1 = sipresolver::v1;

int RunResolve(const std::vector<std::string>& args);
int RunWatchCommand(const std::vector<std::string>& args);
int RunServers(const std::vector<std::string>& args);
int RunReport(const std::vector<std::string>& args);

// Commands by name.
constexpr cli::Command kCommands[] = {
    {"resolve",
     "NAME [--port=N] [--transport=udp|tcp|tls] [--ip_version=v4|v6|dual] "
     "[--redundancy] [--json]",
     "Resolve NAME as a SIP device does; print the candidates in the order\n"
     "the device tries them, then the DNS lookups made.",
     RunResolve},
    {"servers", "[--json]",
     "List the SIP server endpoints the service probes and their health:\n"
     "state, last response, latency, time since the state last changed,\n"
     "and the names whose resolution returned them.",
     RunServers},
    {"watch",
     "--profile=JSON|@FILE [--agent_id=ID] [--spread=spread|device_order] "
     "[--output_file=PATH] [--hook=CMD] [--hook_timeout=30s] "
     "[--report_socket=PATH] [--device_control_after=DURATION] [--once] "
     "[--json] [--sip_port=N] [--stun_interval=30s] "
     "[--register_response_file=PATH]",
     "Watch the redundancy decision for the profile, as the device's agent:\n"
     "print each new decision (and write/run --output_file/--hook); keeps the\n"
     "last decision and reconnects by itself; without the service, moves on\n"
     "the device's reports (--report_socket) and hands control back to the\n"
     "device after --device_control_after. Stop with Ctrl-C.",
     RunWatchCommand},
    {"report",
     "ADDRESS:PORT CODE [--agent_id=ID] [--transport=udp|tcp|tls] [--json]",
     "Tell the service how the device's REGISTER to ADDRESS:PORT went: CODE "
     "is\n"
     "the final response code (0: none came). Registrations from enough\n"
     "devices count as evidence beside the service's probes (fail static).",
     RunReport},
};

int UsageError(absl::string_view reason) {
  std::cerr << cli::FormatUsageError(reason, kCommands);
  return cli::kExitUsage;
}

int RpcError(const grpc::Status& status) {
  std::cerr << cli::FormatRpcError(
      absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message()));
  return cli::kExitRpcError;
}

// Whether the TLS flags ask for TLS, set in main once their files are
// checked. Plain data: no gRPC call may happen before `watch` blocks its stop
// signals, or gRPC's threads would take SIGINT with its default action.
bool g_tls = false;

// Whether to use TLS; INVALID_ARGUMENT naming a TLS flag whose file cannot be
// read (never a silent fall back to the system CAs).
absl::StatusOr<bool> CheckTlsFlags() {
  const std::string ca = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  if (ca.empty() && cert.empty() && key.empty()) return false;
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (absl::GetFlag(FLAGS_tls_reload_interval) < absl::Seconds(1)) {
    return absl::InvalidArgumentError("bad --tls_reload_interval: below 1s");
  }
  for (const auto& [path, flag] :
       {std::pair{ca, "--tls_ca_file"}, std::pair{cert, "--tls_cert_file"},
        std::pair{key, "--tls_key_file"}}) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> pem = cli::ReadWholeFile(path, flag);
    if (!pem.ok()) return pem.status();
  }
  return true;
}

// TLS from the flags' files, which gRPC reads again every
// --tls_reload_interval (a renewed device certificate needs no restart; the
// files were checked once in main). Without --tls_ca_file: the system CAs.
std::shared_ptr<grpc::ChannelCredentials> TlsCredentials() {
  const std::string ca = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          key, cert, ca,
          absl::ToInt64Seconds(absl::GetFlag(FLAGS_tls_reload_interval))));
  if (!ca.empty()) options.watch_root_certs();
  if (!cert.empty()) options.watch_identity_key_cert_pairs();
  return grpc::experimental::TlsCredentials(options);
}

std::shared_ptr<grpc::Channel> NewChannel() {
  grpc::ChannelArguments args;
  const std::string name = absl::GetFlag(FLAGS_tls_server_name);
  if (!name.empty()) args.SetSslTargetNameOverride(name);
  args.SetServiceConfigJSON(sipresolver::client::AgentServiceConfig(
      absl::GetFlag(FLAGS_client_health_check)));
  return grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_server),
      g_tls ? TlsCredentials() : grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<v1::SipResolver::Stub> NewStub() {
  return v1::SipResolver::NewStub(NewChannel());
}

void SetDeadline(grpc::ClientContext& context) {
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (timeout == absl::InfiniteDuration()) return;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// The response as a table (`table` formats it) or, with --json, as JSON.
template <typename Response, typename Table>
int Print(const Response& response, Table table) {
  if (!absl::GetFlag(FLAGS_json)) {
    std::cout << table(response);
    return cli::kExitOk;
  }
  absl::StatusOr<std::string> json = cli::FormatJson(response);
  if (!json.ok()) {
    std::cerr << cli::kProgramName << ": " << json.status().message() << "\n";
    return cli::kExitRpcError;
  }
  std::cout << *json;
  return cli::kExitOk;
}

int RunResolve(const std::vector<std::string>& args) {
  cli::ResolveFlags flags;
  flags.port = absl::GetFlag(FLAGS_port);
  flags.transport = absl::GetFlag(FLAGS_transport);
  flags.ip_version = absl::GetFlag(FLAGS_ip_version);
  flags.redundancy = absl::GetFlag(FLAGS_redundancy);
  absl::StatusOr<v1::ResolveRequest> request =
      cli::MakeResolveRequest(args, flags);
  if (!request.ok()) return UsageError(request.status().message());

  grpc::ClientContext context;
  SetDeadline(context);
  v1::ResolveResponse response;
  const grpc::Status status = NewStub()->Resolve(&context, *request, &response);
  if (!status.ok()) return RpcError(status);
  return Print(response, cli::FormatResolveTable);
}

int RunServers(const std::vector<std::string>& args) {
  if (absl::Status s = cli::CheckServersArgs(args); !s.ok()) {
    return UsageError(s.message());
  }
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ListServersResponse response;
  const grpc::Status status =
      NewStub()->ListServers(&context, v1::ListServersRequest(), &response);
  if (!status.ok()) return RpcError(status);
  return Print(response, [](const v1::ListServersResponse& r) {
    return cli::FormatServersTable(r, absl::Now());
  });
}

int RunReport(const std::vector<std::string>& args) {
  absl::StatusOr<v1::ReportObservationRequest> request = cli::MakeReportRequest(
      args, absl::GetFlag(FLAGS_agent_id), absl::GetFlag(FLAGS_transport));
  if (!request.ok()) return UsageError(request.status().message());
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ReportObservationResponse response;
  const grpc::Status status =
      NewStub()->ReportObservation(&context, *request, &response);
  if (!status.ok()) return RpcError(status);
  return Print(response, [](const v1::ReportObservationResponse& r) {
    return absl::StrCat(
        "reported",
        r.reprobes_scheduled() > 0 ? "; the service re-probes it now" : "",
        "\n");
  });
}

int RunWatchCommand(const std::vector<std::string>& args) {
  if (!args.empty())
    return UsageError(absl::StrCat("unexpected argument \"", args[0], "\""));
  cli::WatchFlags flags;
  flags.profile = absl::GetFlag(FLAGS_profile);
  flags.agent_id = absl::GetFlag(FLAGS_agent_id);
  flags.spread = absl::GetFlag(FLAGS_spread);
  flags.output_file = absl::GetFlag(FLAGS_output_file);
  flags.hook = absl::GetFlag(FLAGS_hook);
  flags.hook_timeout = absl::GetFlag(FLAGS_hook_timeout);
  flags.report_socket = absl::GetFlag(FLAGS_report_socket);
  flags.device_control_after = absl::GetFlag(FLAGS_device_control_after);
  if (flags.hook_timeout <= absl::ZeroDuration()) {
    return UsageError("bad --hook_timeout: must be positive");
  }
  if (flags.device_control_after < absl::ZeroDuration() ||
      flags.device_control_after == absl::InfiniteDuration()) {
    return UsageError(
        "bad --device_control_after: a duration such as 10m, or 0 for never");
  }
  flags.once = absl::GetFlag(FLAGS_once);
  flags.json = absl::GetFlag(FLAGS_json);
  if (absl::GetFlag(FLAGS_sip_port) > 65535)
    return UsageError("bad --sip_port: above 65535");
  flags.sip_port = static_cast<uint16_t>(absl::GetFlag(FLAGS_sip_port));
  flags.stun_interval = absl::GetFlag(FLAGS_stun_interval);
  flags.stun_rto = absl::GetFlag(FLAGS_stun_rto);
  flags.register_response_file = absl::GetFlag(FLAGS_register_response_file);
  if (flags.stun_interval < absl::Seconds(1) ||
      flags.stun_rto < absl::Milliseconds(10)) {
    return UsageError("--stun_interval must be >= 1s and --stun_rto >= 10ms");
  }
  absl::StatusOr<v1::WatchDecisionRequest> request =
      cli::MakeWatchRequest(flags);
  if (!request.ok()) return UsageError(request.status().message());
  cli::BlockStopSignals();
  return cli::RunWatch(flags, *request, NewChannel());
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(cli::ProgramUsage(kCommands));
  // absl lists under --help only flags of a file named after the program
  // (sipresolver.cc); ours are here.
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "sipresolver_cli.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  // Show "client/sipresolver_cli.cc", not the build machine's absolute path.
  usage_config.normalize_filename = [](absl::string_view file) {
    const size_t client = file.rfind("client/");
    return std::string(client == absl::string_view::npos ? file
                                                         : file.substr(client));
  };
  absl::SetFlagsUsageConfig(usage_config);

  if (absl::Status status = cli::CheckFlagSyntax(absl::MakeSpan(argv, argc));
      !status.ok()) {
    return UsageError(status.message());
  }
  const std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  // parsed[0] is the program name.
  const std::vector<std::string> positionals(parsed.begin() + 1, parsed.end());

  if (absl::GetFlag(FLAGS_timeout) <= absl::ZeroDuration()) {
    return UsageError("bad --timeout: must be positive");
  }
  absl::StatusOr<bool> tls = CheckTlsFlags();
  if (!tls.ok()) return UsageError(tls.status().message());
  g_tls = *tls;
  absl::StatusOr<const cli::Command*> command =
      cli::FindCommand(kCommands, positionals);
  if (!command.ok()) return UsageError(command.status().message());
  return (*command)->run(
      std::vector<std::string>(positionals.begin() + 1, positionals.end()));
}
