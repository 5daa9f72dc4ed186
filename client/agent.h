// Agent: the device-side end of WatchDecision, as a library linked into
// device software or run by `sipresolver watch`.
//
// Keeps one stream open and hands every new decision to `on_decision`, as
// DecisionPolicy makes it (heartbeats and unchanged decisions are not handed
// on, nor a new stream's SEARCHING while a decision is held; an unconfirmed
// decision never moves the agent off the primary it holds). When the stream
// breaks it keeps the last decision and reconnects by itself, resuming with
// the last applied version: at once when the server asked for it
// (UNAVAILABLE, e.g. a replica shutting down), else after an exponential
// backoff with full jitter. A stream silent for `stall_timeout` (no decision
// and no heartbeat) counts as broken.
//
// Without the service (local_decisions.h: from the end of a stream that had
// delivered a decision until a stream delivers one again) the agent does
// not pin the device to an address nobody checks any more: a failed
// REGISTER reported through ReportRegistration moves it down the held
// decision's candidates as the device's own redundancy would (S6-S10), and
// after `device_control_after` it hands control back to the device
// (DECISION_STATE_DEVICE_CONTROL). Such decisions are handed on with
// DecisionSource::kAgent; the service's next decision takes over.
//
// Threading: Run() blocks the calling thread until Stop() (any thread) or a
// permanent error (INVALID_ARGUMENT, UNIMPLEMENTED: retrying cannot help).
// PERMISSION_DENIED (a server of the profile is outside the operator's
// allowlist) is retried like any other error: the allowlist or the DNS
// answer may change, and a fleet must not need a restart when it does.
// `on_decision` runs on Run()'s thread (the service's decisions), on the
// thread of the ReportRegistration that moved the agent (local failover),
// or on the agent's timer thread (device control): one at a time, in the
// order the decisions were made; it must not call ReportRegistration.
// `on_event` runs on Run()'s thread.
#ifndef SIPRESOLVER_CLIENT_AGENT_H_
#define SIPRESOLVER_CLIENT_AGENT_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/decision_policy.h"
#include "client/local_decisions.h"
#include "client/reconnect_backoff.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "lib/core/clock.h"
#include "lib/core/random.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::client {

struct AgentOptions {
  // The service's channel. To reach replicas behind one name, as
  // deploy/README.md says, create it with the service config of
  // client/channel_config.h (round robin; health checks on demand), e.g.
  //   grpc::ChannelArguments args;
  //   args.SetServiceConfigJSON(AgentServiceConfig(/*health_check=*/true));
  //   grpc::CreateCustomChannel("dns:///sipresolver-headless:50051", creds,
  //                             args);
  std::shared_ptr<grpc::Channel> channel;
  v1::ItspProfile profile;
  std::string agent_id;
  v1::SpreadMode spread_mode = v1::SPREAD_MODE_UNSPECIFIED;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  // The backoff's jitter and the stall timeout's clock; outlive the agent.
  // Null: the agent's own.
  Random* random = nullptr;
  const Clock* clock = nullptr;
  absl::Duration stall_timeout = absl::Seconds(90);  // > 2 server heartbeats.
  // Without the service for this long (continuously), hand control back to
  // the device's own resolution; 0: never.
  absl::Duration device_control_after = absl::ZeroDuration();
  // A new decision (content or source changed), and who made it. See the
  // threading note above.
  std::function<void(const v1::Decision&, DecisionSource)> on_decision;
  // The stream broke or came back; for logs. Optional.
  std::function<void(const std::string& event)> on_event;
};

// The server asked to reconnect at once (a replica shutting down): the
// trailing metadata of reconnect.h, or, from older servers, UNAVAILABLE
// with "reconnect" in the message.
bool ServerAsksToReconnectNow(
    const grpc::Status& status,
    const std::multimap<grpc::string_ref, grpc::string_ref>& trailing_metadata);

class Agent {
 public:
  explicit Agent(AgentOptions options);

  // Returns the permanent error that ended it, or OK after Stop().
  absl::Status Run();
  void Stop();

  // The last decision handed on, kept while disconnected.
  std::optional<v1::Decision> last_decision() const;

  // Tells the service how the device's REGISTER to `server` went
  // (`status_code` the final response, 0 when none came), on the stream's
  // channel: enough devices' registrations are evidence beside the
  // service's probes (fail static), a failure makes it re-probe at once.
  // Without the service, a failure first moves the agent by itself (local
  // failover, above; `on_decision` runs before this returns). Blocks up to
  // `timeout`; any thread but on_decision's. The status is the RPC's: a
  // report the service did not get is no error for local failover.
  absl::Status ReportRegistration(const v1::Endpoint& server,
                                  uint32_t status_code,
                                  absl::Duration timeout = absl::Seconds(5));

 private:
  // Streams and reconnects until Stop() or a permanent error.
  absl::Status RunStreams();
  // One stream until it ends; the status it ended with.
  grpc::Status Stream();
  // The timer thread: hands on device control when it is due.
  void DeviceControlTimer();
  // Makes what `decide` returns (called under mu_) the held decision and
  // hands it on, in order with every other decision; nothing on nullopt.
  void HandOn(const std::function<std::optional<v1::Decision>()>& decide,
              DecisionSource source);

  const AgentOptions options_;
  std::unique_ptr<v1::SipResolver::Stub> stub_;
  RealRandom own_random_;
  RealClock own_clock_;
  const Clock& clock_;
  ReconnectBackoff backoff_;
  DecisionPolicy policy_;
  bool reconnect_now_ = false;  // How the last stream ended; Run()'s thread.
  uint64_t last_version_ = 0;

  // Held from deciding through on_decision, so that decisions made on
  // different threads are handed on in the order they were made.
  absl::Mutex hand_on_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::optional<v1::Decision> last_ ABSL_GUARDED_BY(mu_);
  DecisionSource last_source_ ABSL_GUARDED_BY(mu_) = DecisionSource::kService;
  LocalDecisions local_ ABSL_GUARDED_BY(mu_);
  absl::CondVar timer_cv_;  // local_ changed, or Run() ends.
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_AGENT_H_
