#include "client/agent.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/stall_watch.h"
#include "sipresolver/v1/reconnect.h"

namespace sipresolver::client {
namespace {

// How often the timer thread looks at the clock while device control is
// pending: an injected clock may jump (tests), so it never sleeps the whole
// wait at once.
constexpr absl::Duration kTimerPoll = absl::Milliseconds(250);

}  // namespace

Agent::Agent(AgentOptions options)
    : options_(std::move(options)),
      stub_(v1::SipResolver::NewStub(options_.channel)),
      clock_(options_.clock != nullptr ? *options_.clock : own_clock_),
      backoff_(options_.initial_backoff, options_.max_backoff,
               options_.random != nullptr ? *options_.random : own_random_),
      local_(options_.profile, options_.device_control_after) {}

std::optional<v1::Decision> Agent::last_decision() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

bool ServerAsksToReconnectNow(
    const grpc::Status& status,
    const std::multimap<grpc::string_ref, grpc::string_ref>&
        trailing_metadata) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  auto it = trailing_metadata.find(v1::kReconnectKey);
  if (it != trailing_metadata.end()) return it->second == v1::kReconnectNow;
  return status.error_message().find("reconnect") !=
         std::string::npos;  // Older.
}

void Agent::HandOn(const std::function<std::optional<v1::Decision>()>& decide,
                   DecisionSource source) {
  absl::MutexLock hand_on(&hand_on_mu_);
  std::optional<v1::Decision> d;
  {
    absl::MutexLock lock(&mu_);
    d = decide();
    if (!d) return;
    last_ = *d;
    last_source_ = source;
    timer_cv_.SignalAll();
  }
  if (options_.on_decision) options_.on_decision(*d, source);
}

absl::Status Agent::ReportRegistration(const v1::Endpoint& server,
                                       uint32_t status_code,
                                       absl::Duration timeout) {
  // Local failover first: the RPC may wait its whole timeout for a service
  // that is not there.
  HandOn(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> std::optional<v1::Decision> {
        if (!last_) return std::nullopt;
        return local_.OnReport(*last_, server.address(), server.port(),
                               status_code, absl::Now());
      },
      DecisionSource::kAgent);
  v1::ReportObservationRequest request;
  request.set_agent_id(options_.agent_id);
  v1::RegistrationOutcome& o = *request.add_registrations();
  *o.mutable_server() = server;
  o.set_status_code(status_code);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ReportObservationResponse response;
  const grpc::Status s = stub_->ReportObservation(&context, request, &response);
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

void Agent::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  timer_cv_.SignalAll();
  if (context_) context_->TryCancel();
}

void Agent::DeviceControlTimer() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_ || !running_) return;
      const std::optional<absl::Time> due = local_.DeviceControlDue();
      if (!due) {
        timer_cv_.Wait(&mu_);
        continue;
      }
      const absl::Duration left = *due - clock_.Now();
      if (left > absl::ZeroDuration()) {
        timer_cv_.WaitWithTimeout(&mu_, std::min(left, kTimerPoll));
        continue;
      }
    }
    HandOn([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
               mu_) { return local_.OnTick(last_, clock_.Now(), absl::Now()); },
           DecisionSource::kAgent);
  }
}

absl::Status Agent::Run() {
  {
    absl::MutexLock lock(&mu_);
    running_ = true;
  }
  // Device control must come on time whatever the streams do (a stalled
  // one, a connect that hangs, a long backoff): a thread of its own.
  std::thread timer;
  if (options_.device_control_after > absl::ZeroDuration()) {
    timer = std::thread([this] { DeviceControlTimer(); });
  }
  absl::Status status = RunStreams();
  {
    absl::MutexLock lock(&mu_);
    running_ = false;
    timer_cv_.SignalAll();
  }
  if (timer.joinable()) timer.join();
  return status;
}

absl::Status Agent::RunStreams() {
  while (true) {
    const grpc::Status status = Stream();
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return absl::OkStatus();
    }
    const auto code = status.error_code();
    if (code == grpc::StatusCode::INVALID_ARGUMENT ||
        code == grpc::StatusCode::UNIMPLEMENTED) {
      return absl::Status(static_cast<absl::StatusCode>(code),
                          status.error_message());
    }
    // A server going away asks for an immediate reconnect (to a replica).
    const absl::Duration wait = backoff_.Next(reconnect_now_);
    if (options_.on_event) {
      options_.on_event(absl::StrCat(
          "stream ended (", status.error_code(), ": ", status.error_message(),
          "); reconnecting in ", absl::FormatDuration(wait)));
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopped_), wait);
    if (stopped_) return absl::OkStatus();
  }
}

grpc::Status Agent::Stream() {
  reconnect_now_ = false;
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return grpc::Status::CANCELLED;
    context_ = &context;
  }
  v1::WatchDecisionRequest request;
  *request.mutable_profile() = options_.profile;
  request.set_agent_id(options_.agent_id);
  request.set_spread_mode(options_.spread_mode);
  request.set_last_applied_version(last_version_);
  {
    // What it registers with, for a replica that has no decision for it yet.
    absl::MutexLock lock(&mu_);
    if (last_ && last_->state() == v1::DECISION_STATE_ACTIVE) {
      for (auto [from, to] :
           {std::pair{&last_->primary(), request.mutable_applied_primary()},
            std::pair{&last_->secondary(),
                      request.mutable_applied_secondary()}}) {
        if (from->address().empty()) continue;
        to->set_address(from->address());
        to->set_port(from->port());
      }
    }
  }

  // Watchdog: cancel a stream that has gone silent.
  StallWatch stall(clock_, options_.stall_timeout);
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    while (!done) {
      absl::SleepFor(absl::Milliseconds(200));
      if (stall.Stalled()) {
        context.TryCancel();
        return;
      }
    }
  });

  auto reader = stub_->WatchDecision(&context, request);
  policy_.OnNewStream();
  bool delivered = false;  // A decision the policy hands on (or would).
  v1::Decision decision;
  while (reader->Read(&decision)) {
    stall.Heard();
    backoff_.Reset();  // Connected and served: the next outage starts fresh.
    if (decision.heartbeat()) continue;
    last_version_ = std::max(last_version_, decision.version());
    absl::MutexLock hand_on(&hand_on_mu_);
    std::optional<v1::Decision> apply;
    bool changed;
    {
      absl::MutexLock lock(&mu_);
      apply = policy_.Accept(last_, std::move(decision));
      if (!apply) continue;
      delivered = true;
      local_.ServiceBack();  // The service decides again.
      timer_cv_.SignalAll();
      // A decision of the agent's own is replaced even by the same one: the
      // device learns that the service is back (SIPRESOLVER_SOURCE).
      changed = !last_ || !SameDecision(*last_, *apply) ||
                last_source_ != DecisionSource::kService;
      last_ = *apply;  // The newest version, even when nothing changed.
      last_source_ = DecisionSource::kService;
    }
    if (changed && options_.on_decision) {
      options_.on_decision(*apply, DecisionSource::kService);
    }
  }
  grpc::Status status = reader->Finish();
  reconnect_now_ =
      ServerAsksToReconnectNow(status, context.GetServerTrailingMetadata());
  done = true;
  watchdog.join();
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  if (delivered) {
    local_.ServiceLost(clock_.Now());  // Without the service from now on.
    timer_cv_.SignalAll();
  }
  return status;
}

}  // namespace sipresolver::client
