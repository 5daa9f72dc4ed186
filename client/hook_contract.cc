#include "client/hook_contract.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/core/host_port.h"

namespace sipresolver::cli {
namespace {

std::string TransportName(v1::Transport transport) {
  switch (transport) {
    case v1::TRANSPORT_TCP:
      return "tcp";
    case v1::TRANSPORT_TLS:
      return "tls";
    default:
      return "udp";  // Unspecified means UDP, as for the device.
  }
}

// NAME, NAME_ADDRESS, NAME_PORT, NAME_TRANSPORT, NAME_TARGET; empty values
// when `present` is false.
void AddServer(const std::string& name, bool present,
               const std::string& address, uint32_t port,
               v1::Transport transport, const std::string& target,
               std::vector<std::string>& env) {
  const std::string prefix = absl::StrCat("SIPRESOLVER_", name);
  env.push_back(
      absl::StrCat(prefix, "=", present ? HostPort(address, port) : ""));
  env.push_back(absl::StrCat(prefix, "_ADDRESS=", present ? address : ""));
  env.push_back(
      absl::StrCat(prefix, "_PORT=", present ? absl::StrCat(port) : ""));
  env.push_back(absl::StrCat(
      prefix, "_TRANSPORT=", present ? TransportName(transport) : ""));
  env.push_back(absl::StrCat(prefix, "_TARGET=",
                             !present         ? ""
                             : target.empty() ? address
                                              : target));
}

void AddCandidate(const std::string& name, bool present, const v1::Candidate& c,
                  v1::Transport transport, std::vector<std::string>& env) {
  AddServer(name, present, c.address(), c.port(), transport, c.target(), env);
}

}  // namespace

std::string StateName(v1::DecisionState state) {
  switch (state) {
    case v1::DECISION_STATE_SEARCHING:
      return "searching";
    case v1::DECISION_STATE_ACTIVE:
      return "active";
    case v1::DECISION_STATE_NO_WORKING_SERVER:
      return "no_working_server";
    case v1::DECISION_STATE_DEVICE_CONTROL:
      return "device_control";
    default:
      return "unknown";
  }
}

std::string AssuranceName(v1::Assurance assurance) {
  switch (assurance) {
    case v1::ASSURANCE_PROBES:
      return "probes";
    case v1::ASSURANCE_DEVICE_REPORTS:
      return "device_reports";
    case v1::ASSURANCE_UNCONFIRMED:
      return "unconfirmed";
    default:
      return "";
  }
}

std::string DecisionFile(absl::string_view decision_json,
                         client::DecisionSource source) {
  return absl::StrCat("{\"schema\":\"", kDecisionFileSchema, "\",\"source\":\"",
                      client::DecisionSourceName(source), "\",\"decision\":",
                      absl::StripTrailingAsciiWhitespace(decision_json), "}\n");
}

bool AppliesToDevice(const v1::Decision& decision) {
  return (decision.state() == v1::DECISION_STATE_ACTIVE &&
          decision.has_primary()) ||
         decision.state() == v1::DECISION_STATE_DEVICE_CONTROL;
}

std::vector<std::string> HookEnvironment(
    const v1::Decision& d, client::DecisionSource source,
    const v1::ItspProfile& profile, const std::string& decision_file,
    const std::optional<nat::MappedAddress>& mapped) {
  const v1::Transport transport = profile.proxy_server_transport();
  const client::ProfileServer server = client::RedundancyServer(profile);
  std::vector<std::string> env = {
      absl::StrCat("SIPRESOLVER_HOOK_CONTRACT=", kHookContractVersion),
      absl::StrCat("SIPRESOLVER_STATE=", StateName(d.state())),
      absl::StrCat("SIPRESOLVER_ASSURANCE=", AssuranceName(d.assurance())),
      absl::StrCat("SIPRESOLVER_PROBE_PATH_SUSPECT=",
                   d.probe_path_suspect() ? "1" : "0"),
      absl::StrCat("SIPRESOLVER_VERSION=", d.version()),
      absl::StrCat("SIPRESOLVER_MAPPED=", mapped ? nat::HostPort(*mapped) : ""),
      absl::StrCat("SIPRESOLVER_MAPPED_BY=",
                   mapped ? nat::MethodName(mapped->method) : ""),
      absl::StrCat("SIPRESOLVER_DECISION_FILE=", decision_file),
      absl::StrCat("SIPRESOLVER_SOURCE=", client::DecisionSourceName(source)),
      absl::StrCat("SIPRESOLVER_PROFILE_SERVER=", server.server),
      absl::StrCat("SIPRESOLVER_PROFILE_PORT=",
                   server.port != 0 ? absl::StrCat(server.port) : ""),
      absl::StrCat("SIPRESOLVER_PROFILE_TRANSPORT=", TransportName(transport))};
  AddCandidate("PRIMARY", d.has_primary(), d.primary(), transport, env);
  AddCandidate("SECONDARY", d.has_secondary(), d.secondary(), transport, env);
  const v1::Endpoint& k = d.keep_alive_target();
  AddServer("KEEPALIVE", d.has_keep_alive_target(), k.address(), k.port(),
            k.transport(), "", env);
  return env;
}

}  // namespace sipresolver::cli
