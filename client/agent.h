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
// Threading: Run() blocks the calling thread until Stop() (any thread) or a
// permanent error (INVALID_ARGUMENT, UNIMPLEMENTED: retrying cannot help).
// PERMISSION_DENIED (a server of the profile is outside the operator's
// allowlist) is retried like any other error: the allowlist or the DNS
// answer may change, and a fleet must not need a restart when it does.
// Callbacks run on Run()'s thread.
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
#include "client/reconnect_backoff.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "lib/core/clock.h"
#include "lib/core/random.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::client {

struct AgentOptions {
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
  // A new decision (content changed). Runs on Run()'s thread.
  std::function<void(const v1::Decision&)> on_decision;
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
  // Blocks up to `timeout`; any thread.
  absl::Status ReportRegistration(const v1::Endpoint& server,
                                  uint32_t status_code,
                                  absl::Duration timeout = absl::Seconds(5));

 private:
  // One stream until it ends; the status it ended with.
  grpc::Status Stream();

  const AgentOptions options_;
  std::unique_ptr<v1::SipResolver::Stub> stub_;
  RealRandom own_random_;
  RealClock own_clock_;
  const Clock& clock_;
  ReconnectBackoff backoff_;
  DecisionPolicy policy_;
  bool reconnect_now_ = false;  // How the last stream ended; Run()'s thread.
  uint64_t last_version_ = 0;

  mutable absl::Mutex mu_;
  std::optional<v1::Decision> last_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_AGENT_H_
