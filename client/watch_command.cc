#include "client/watch_command.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/agent.h"
#include "client/command_line.h"
#include "client/decision_applier.h"
#include "client/default_agent_id.h"
#include "client/report_socket.h"
#include "google/protobuf/util/json_util.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::cli {
namespace {

// Tells the service (aggregated metrics only); failures are just logged.
void ReportMapping(v1::SipResolver::Stub& stub, const std::string& agent_id,
                   const nat::MappedAddress& m, bool changed) {
  v1::ReportObservationRequest request;
  request.set_agent_id(agent_id);
  v1::MappedAddress& out = *request.mutable_mapped_address();
  out.set_address(m.address);
  out.set_port(m.port);
  out.set_method(m.method == nat::MappedAddress::Method::kStun
                     ? v1::MAPPING_METHOD_STUN
                     : v1::MAPPING_METHOD_VIA);
  out.set_changed(changed);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::ReportObservationResponse response;
  grpc::Status s = stub.ReportObservation(&context, request, &response);
  if (!s.ok())
    std::cerr << kProgramName << ": report: " << s.error_message() << "\n";
}

// The --report_socket: each line the device sends is reported through the
// agent. A failed report is logged when sending starts failing, not for
// each report of an outage.
absl::StatusOr<std::unique_ptr<client::ReportSocket>> OpenReportSocket(
    const std::string& path, v1::Transport transport, client::Agent& agent) {
  return client::ReportSocket::Create(
      {path,
       [&agent, transport, last_sent = true](const device_report& r) mutable {
         v1::Endpoint server;
         server.set_address(r.address);
         server.set_port(r.port);
         server.set_transport(transport);
         const absl::Status s = agent.ReportRegistration(server, r.code);
         if (!s.ok() && last_sent) {
           std::cerr << kProgramName
                     << ": report to the service failed (not logged again "
                        "until one gets through): "
                     << s.message() << "\n";
         }
         last_sent = s.ok();
       },
       [](const std::string& message) {
         std::cerr << kProgramName << ": " << message << "\n";
       }});
}

}  // namespace

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

absl::StatusOr<v1::WatchDecisionRequest> MakeWatchRequest(
    const WatchFlags& flags) {
  v1::WatchDecisionRequest request;
  std::string json = flags.profile;
  if (json.empty()) {
    return absl::InvalidArgumentError(
        "watch needs --profile='{\"proxy_server\": \"...\"}' or "
        "--profile=@FILE");
  }
  if (json.front() == '@') {
    absl::StatusOr<std::string> text =
        ReadWholeFile(json.substr(1), "--profile");
    if (!text.ok()) return text.status();
    json = *std::move(text);
  }
  google::protobuf::util::JsonParseOptions options;
  if (auto s = google::protobuf::util::JsonStringToMessage(
          json, request.mutable_profile(), options);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--profile is not an ItspProfile in JSON: ", s.message().ToString()));
  }
  std::string agent = flags.agent_id;
  if (agent.empty()) {
    absl::StatusOr<std::string> derived = client::DefaultAgentId();
    if (!derived.ok()) return derived.status();
    agent = *std::move(derived);
  }
  request.set_agent_id(agent);
  const std::string spread = absl::AsciiStrToLower(flags.spread);
  if (spread.empty() || spread == "spread") {
    request.set_spread_mode(v1::SPREAD_MODE_SPREAD);
  } else if (spread == "device_order") {
    request.set_spread_mode(v1::SPREAD_MODE_DEVICE_ORDER);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --spread \"", flags.spread, "\": spread or device_order"));
  }
  return request;
}

int RunWatch(const WatchFlags& flags, const v1::WatchDecisionRequest& request,
             std::shared_ptr<grpc::Channel> channel) {
  const sigset_t stop = BlockStopSignals();
  const auto log = [](const std::string& message) {
    std::cerr << kProgramName << ": " << message << "\n";
  };

  // The applier is declared before the agent, so the last decision's hook
  // has run when the command ends; the stub its mappings go to before it.
  auto report_stub = v1::SipResolver::NewStub(channel);
  DecisionApplierOptions applier_options;
  applier_options.profile = request.profile();
  applier_options.json = flags.json;
  applier_options.output_file = flags.output_file;
  applier_options.hook = flags.hook;
  applier_options.hook_timeout = flags.hook_timeout;
  applier_options.nat.local_port = flags.sip_port;
  applier_options.nat.interval = flags.stun_interval;
  applier_options.nat.stun.rto = flags.stun_rto;
  applier_options.nat.on_event = log;
  applier_options.nat.on_mapping = [&](const nat::MappedAddress& m,
                                       bool changed) {
    ReportMapping(*report_stub, request.agent_id(), m, changed);
  };
  applier_options.register_response_file = flags.register_response_file;
  applier_options.log = log;
  absl::StatusOr<std::unique_ptr<DecisionApplier>> applier =
      DecisionApplier::Create(std::move(applier_options));
  if (!applier.ok()) {
    std::cerr << FormatRpcError(applier.status());
    return kExitRpcError;
  }

  client::AgentOptions options;
  options.channel = std::move(channel);
  options.profile = request.profile();
  options.agent_id = request.agent_id();
  options.spread_mode = request.spread_mode();
  options.device_control_after = flags.device_control_after;
  options.on_event = log;
  // --once: the first active decision stops the agent that handed it on.
  std::optional<client::Agent> agent;
  options.on_decision = [&](const v1::Decision& d,
                            client::DecisionSource source) {
    (*applier)->Apply(d, source);
    if (flags.once && d.state() == v1::DECISION_STATE_ACTIVE) agent->Stop();
  };
  agent.emplace(std::move(options));

  // The device's REGISTER outcomes: local failover without the service,
  // evidence for it when it is there. Declared after the agent, so it
  // stops first.
  std::unique_ptr<client::ReportSocket> reports;
  if (!flags.report_socket.empty()) {
    absl::StatusOr<std::unique_ptr<client::ReportSocket>> socket =
        OpenReportSocket(flags.report_socket,
                         request.profile().proxy_server_transport(), *agent);
    if (!socket.ok()) {
      log(std::string(socket.status().message()));
      return kExitRpcError;
    }
    reports = *std::move(socket);
  }
  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop, &signal_number);
    agent->Stop();
  });
  const absl::Status result = agent->Run();
  // Wake the stopper if the agent ended by itself.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): ends its sigwait.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  if (!result.ok()) {
    std::cerr << FormatRpcError(result);
    return kExitRpcError;
  }
  return kExitOk;
}

}  // namespace sipresolver::cli
