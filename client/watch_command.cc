#include "client/watch_command.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/agent.h"
#include "client/cli_output.h"
#include "client/default_agent_id.h"
#include "client/hook_contract.h"
#include "client/hook_runner.h"
#include "client/nat_keeper.h"
#include "client/report_socket.h"
#include "google/protobuf/util/json_util.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::cli {
namespace {

std::string Where(const v1::Candidate& c) {
  const bool v6 = c.address().find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", c.address(), v6 ? "]" : "", ":", c.port(),
                      c.target().empty() || c.target() == c.address()
                          ? ""
                          : absl::StrCat(" (", c.target(), ")"));
}

// The profile asks for STUN keep-alives (N2).
bool WantsStun(const v1::ItspProfile& p) {
  return p.keep_alive_enable() &&
         (p.keep_alive_msg_type() == v1::KEEP_ALIVE_MSG_TYPE_STUN ||
          p.keep_alive_msg_type() == v1::KEEP_ALIVE_MSG_TYPE_UNSPECIFIED);
}

// Tells the service (aggregated metrics only); failures are just logged.
void ReportMapping(v1::SipResolver::Stub& stub, const std::string& agent_id,
                   const nat::MappedAddress& m, bool changed,
                   uint16_t local_port) {
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

std::string FormatDecisionLine(const v1::Decision& d) {
  std::vector<std::string> parts;
  if (d.has_primary())
    parts.push_back(absl::StrCat("primary ", Where(d.primary())));
  if (d.has_secondary())
    parts.push_back(absl::StrCat("secondary ", Where(d.secondary())));
  if (d.primary_fallback_size() > 0) {
    parts.push_back(absl::StrCat(
        "fallback ",
        absl::StrJoin(d.primary_fallback(), " ",
                      [](std::string* out, const v1::Candidate& c) {
                        out->append(Where(c));
                      })));
  }
  if (d.has_keep_alive_target()) {
    parts.push_back(absl::StrCat("keep-alive ", d.keep_alive_target().address(),
                                 ":", d.keep_alive_target().port()));
  }
  // Fail static: say when the service could not confirm the primary.
  const std::string assurance = AssuranceName(d.assurance());
  const std::string qualifier =
      assurance == "unconfirmed" ? " (unconfirmed: the device's own choice)"
      : assurance == "device_reports"
          ? " (confirmed by device reports; probes fail)"
          : "";
  return absl::StrCat(
      "v", d.version(), " ",
      absl::StrReplaceAll(StateName(d.state()), {{"_", " "}}), qualifier,
      parts.empty() ? "" : ": ", absl::StrJoin(parts, ", "),
      d.reason().empty() ? "" : absl::StrCat(" - ", d.reason()), "\n");
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out)
      return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    unlink(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

int RunWatch(const WatchFlags& flags, const v1::WatchDecisionRequest& request,
             std::shared_ptr<grpc::Channel> channel) {
  const sigset_t stop = BlockStopSignals();

  client::AgentOptions options;
  options.channel = std::move(channel);
  options.profile = request.profile();
  options.agent_id = request.agent_id();
  options.spread_mode = request.spread_mode();
  options.device_control_after = flags.device_control_after;
  client::Agent* agent_ptr = nullptr;
  options.on_event = [](const std::string& event) {
    std::cerr << kProgramName << ": " << event << "\n";
  };

  // N1-N3: the mapped address, when the profile uses STUN keep-alives or a
  // REGISTER response is given.
  std::unique_ptr<client::NatKeeper> nat;
  auto report_stub = v1::SipResolver::NewStub(options.channel);
  absl::Mutex out_mu;  // Decisions and mappings print from two threads.
  if (WantsStun(request.profile()) || !flags.register_response_file.empty()) {
    client::NatOptions nat_options;
    nat_options.local_port = flags.sip_port;
    nat_options.interval = flags.stun_interval;
    nat_options.stun.rto = flags.stun_rto;
    nat_options.on_event = options.on_event;
    nat_options.on_mapping = [&](const nat::MappedAddress& m, bool changed) {
      {
        absl::MutexLock lock(&out_mu);
        if (flags.json) {
          std::cout << "{\"mapped_address\":\"" << nat::HostPort(m)
                    << "\",\"method\":\"" << nat::MethodName(m.method)
                    << "\"}\n"
                    << std::flush;
        } else {
          std::cout << "mapped " << nat::HostPort(m) << " (learned by "
                    << nat::MethodName(m.method) << ")\n"
                    << std::flush;
        }
      }
      ReportMapping(*report_stub, request.agent_id(), m, changed,
                    flags.sip_port);
    };
    auto keeper = client::NatKeeper::Create(nat_options);
    if (!keeper.ok()) {
      std::cerr << FormatRpcError(keeper.status());
      return kExitRpcError;
    }
    nat = *std::move(keeper);
    if (!flags.register_response_file.empty()) {
      absl::StatusOr<std::string> text = ReadWholeFile(
          flags.register_response_file, "--register_response_file");
      absl::Status s =
          text.ok() ? nat->ObserveRegisterResponse(*text) : text.status();
      if (!s.ok()) std::cerr << kProgramName << ": " << s.message() << "\n";
    }
  }

  // Hooks run off the stream's thread; declared before the agent, so the
  // last decision's hook has run when the command ends.
  std::unique_ptr<client::HookRunner> hooks;
  if (!flags.hook.empty()) {
    hooks = std::make_unique<client::HookRunner>(client::HookRunner::Options{
        flags.hook, flags.hook_timeout, STDERR_FILENO,
        [](const std::string& message) {
          std::cerr << kProgramName << ": " << message << "\n";
        }});
  }
  options.on_decision = [&](const v1::Decision& d,
                            client::DecisionSource source) {
    absl::StatusOr<std::string> json = FormatJson(d);
    {
      absl::MutexLock lock(&out_mu);
      std::cout << (flags.json && json.ok() ? *json : FormatDecisionLine(d))
                << std::flush;
    }
    // Only what a device applies goes on: never "no server" (S7 keeps what
    // works; SEARCHING has nothing yet).
    if (!AppliesToDevice(d)) return;
    if (!flags.output_file.empty() && json.ok()) {
      if (absl::Status s = WriteFileAtomically(flags.output_file,
                                               DecisionFile(*json, source));
          !s.ok()) {
        std::cerr << kProgramName << ": " << s.message() << "\n";
      }
    }
    // In device control the device picks its own server: STUN keeps going
    // to the last target rather than stopping.
    if (nat && WantsStun(request.profile()) &&
        d.state() == v1::DECISION_STATE_ACTIVE) {
      nat->SetTarget(d.keep_alive_target().address(),
                     d.keep_alive_target().port());
    }
    if (hooks) {
      hooks->Submit(HookEnvironment(d, source, request.profile(),
                                    flags.output_file,
                                    nat ? nat->current() : std::nullopt));
    }
    if (flags.once && d.state() == v1::DECISION_STATE_ACTIVE) {
      agent_ptr->Stop();
    }
  };
  client::Agent agent(options);
  agent_ptr = &agent;
  // The device's REGISTER outcomes: local failover without the service,
  // evidence for it when it is there. Declared after the agent, so it
  // stops first.
  // Log a failed report only when sending starts failing, not for each
  // report of an outage. The socket's thread only.
  bool last_sent = true;
  std::unique_ptr<client::ReportSocket> reports;
  if (!flags.report_socket.empty()) {
    auto socket = client::ReportSocket::Create(
        {flags.report_socket,
         [&](const device_report& r) {
           v1::Endpoint server;
           server.set_address(r.address);
           server.set_port(r.port);
           server.set_transport(request.profile().proxy_server_transport());
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
    if (!socket.ok()) {
      std::cerr << kProgramName << ": " << socket.status().message() << "\n";
      return kExitRpcError;
    }
    reports = *std::move(socket);
  }
  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop, &signal_number);
    agent.Stop();
  });
  const absl::Status result = agent.Run();
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
