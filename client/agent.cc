#include "client/agent.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/stall_watch.h"
#include "sipresolver/v1/reconnect.h"

namespace sipresolver::client {

Agent::Agent(AgentOptions options)
    : options_(std::move(options)),
      stub_(v1::SipResolver::NewStub(options_.channel)),
      clock_(options_.clock != nullptr ? *options_.clock : own_clock_),
      backoff_(options_.initial_backoff, options_.max_backoff,
               options_.random != nullptr ? *options_.random : own_random_) {}

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

absl::Status Agent::ReportRegistration(const v1::Endpoint& server,
                                       uint32_t status_code,
                                       absl::Duration timeout) {
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
  if (context_) context_->TryCancel();
}

absl::Status Agent::Run() {
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
  v1::Decision decision;
  while (reader->Read(&decision)) {
    stall.Heard();
    backoff_.Reset();  // Connected and served: the next outage starts fresh.
    if (decision.heartbeat()) continue;
    last_version_ = std::max(last_version_, decision.version());
    std::optional<v1::Decision> apply;
    bool changed;
    {
      absl::MutexLock lock(&mu_);
      apply = policy_.Accept(last_, std::move(decision));
      if (!apply) continue;
      changed = !last_ || !SameDecision(*last_, *apply);
      last_ = *apply;  // The newest version, even when nothing changed.
    }
    if (changed && options_.on_decision) options_.on_decision(*apply);
  }
  grpc::Status status = reader->Finish();
  reconnect_now_ =
      ServerAsksToReconnectNow(status, context.GetServerTrailingMetadata());
  done = true;
  watchdog.join();
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  return status;
}

}  // namespace sipresolver::client
