// `sipresolver watch`: the agent as a command. Each new decision goes to a
// DecisionApplier (decision_applier.h: print, file, hook, NAT); RunWatch
// wires it to the agent, the report socket and the stop signals.
#ifndef SIPRESOLVER_CLIENT_WATCH_COMMAND_H_
#define SIPRESOLVER_CLIENT_WATCH_COMMAND_H_

#include <signal.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

struct WatchFlags {
  std::string profile;      // JSON ItspProfile, or @FILE holding it.
  std::string agent_id;     // Empty: from the machine id (agent_id.h).
  std::string spread;       // "", "spread", "device_order".
  std::string output_file;  // Written atomically (JSON) on every decision.
  std::string hook;         // Run by /bin/sh on every decision.
  absl::Duration hook_timeout = absl::Seconds(30);  // Then its group is killed.
  // A unix datagram socket for the device's REGISTER reports
  // ("ADDRESS:PORT CODE" lines); empty: none.
  std::string report_socket;
  // Without the service this long: device control; 0 = never.
  absl::Duration device_control_after = absl::ZeroDuration();
  bool once = false;  // Exit after the first ACTIVE decision.
  bool json = false;  // One JSON object per line instead of text.
  // NAT (N1-N3), when the profile enables STUN keep-alives:
  uint16_t sip_port = 0;  // STUN from the device's SIP port.
  absl::Duration stun_interval = absl::Seconds(30);
  absl::Duration stun_rto = absl::Milliseconds(500);
  std::string register_response_file;  // N1: a REGISTER response to read.
};

// The request the flags describe; INVALID_ARGUMENT for usage errors.
absl::StatusOr<v1::WatchDecisionRequest> MakeWatchRequest(
    const WatchFlags& flags);

// Blocks SIGINT and SIGTERM in this thread and every thread it starts later,
// so that RunWatch's waiting thread takes them: call before creating the
// gRPC channel (its threads inherit the mask).
sigset_t BlockStopSignals();

// Runs until SIGINT/SIGTERM (exit 0) or a permanent error (exit 1).
int RunWatch(const WatchFlags& flags, const v1::WatchDecisionRequest& request,
             std::shared_ptr<grpc::Channel> channel);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_WATCH_COMMAND_H_
