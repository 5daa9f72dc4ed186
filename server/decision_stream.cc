#include "server/decision_stream.h"

#include "server/grpc_status.h"
#include "sipresolver/v1/reconnect.h"

namespace sipresolver::server {

// All of one call's tags complete on the one queue its call was requested
// on, drained by one thread: its events never run concurrently.

void DecisionStream::Request(const StreamSettings& settings) {
  std::shared_ptr<DecisionStream> stream(new DecisionStream(settings));
  stream->self_ = stream;
  // Before the call starts, as gRPC requires: the done tag tells us of a
  // cancelled call even while no write is in flight.
  stream->call_->context.AsyncNotifyWhenDone(&stream->done_tag_);
  if (!settings.request_call(*stream, &stream->started_)) {
    stream->self_.reset();  // No call will come: nothing refers to it.
  }
}

DecisionStream::DecisionStream(const StreamSettings& settings)
    : settings_(settings), call_(std::make_unique<Call>()) {}

std::string DecisionStream::peer() const {
  absl::MutexLock lock(&mu_);
  return call_ ? call_->context.peer() : "";
}

bool DecisionStream::Offer(v1::Decision decision) {
  return Put(std::move(decision), false);
}

bool DecisionStream::OfferHeartbeat(v1::Decision heartbeat) {
  return Put(std::move(heartbeat), true);
}

bool DecisionStream::StalledLocked() const {
  return in_flight_ == Operation::kWrite &&
         settings_.clock->Now() - write_started_ > settings_.max_write_stall;
}

void DecisionStream::WritePendingLocked() {
  const v1::Decision next = *std::move(pending_);
  pending_.reset();
  in_flight_ = Operation::kWrite;
  write_started_ = settings_.clock->Now();
  call_->writer.Write(next, &written_);  // Serialized here.
}

void DecisionStream::FinishLocked(const grpc::Status& status) {
  phase_ = Phase::kClosed;
  in_flight_ = Operation::kFinish;
  call_->writer.Finish(status, &finished_tag_);
}

void DecisionStream::CancelLocked() {
  // The agent stopped reading. Cancelling fails the write in flight and
  // completes the done tag.
  phase_ = Phase::kCancelling;
  pending_.reset();
  call_->context.TryCancel();
}

bool DecisionStream::Put(v1::Decision decision, bool heartbeat) {
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kOpen) return true;
    if (StalledLocked()) {
      CancelLocked();
      return false;
    }
    if (!heartbeat || !pending_)
      pending_ = std::move(decision);  // Newest wins.
    // A write in flight takes the pending one when it completes.
    if (in_flight_ != Operation::kNone || write_scheduled_) return true;
    write_scheduled_ = true;
  }
  settings_.schedule_write(shared_from_this());
  return true;
}

void DecisionStream::WriteQueued() {
  absl::MutexLock lock(&mu_);
  write_scheduled_ = false;
  if (phase_ != Phase::kOpen || in_flight_ != Operation::kNone || !pending_)
    return;
  WritePendingLocked();
}

bool DecisionStream::CancelIfStalled() {
  absl::MutexLock lock(&mu_);
  const bool may_cancel =
      phase_ == Phase::kOpen || phase_ == Phase::kFinishAfterWrite;
  if (!may_cancel || !StalledLocked()) return true;
  CancelLocked();
  return false;
}

void DecisionStream::End(const absl::Status& status, bool reconnect_now) {
  absl::MutexLock lock(&mu_);
  if (phase_ == Phase::kClosed || phase_ == Phase::kDone) return;
  // Read by gRPC only at Finish, which comes after this (here or after the
  // write in flight).
  if (reconnect_now)
    call_->context.AddTrailingMetadata(v1::kReconnectKey, v1::kReconnectNow);
  pending_.reset();
  if (in_flight_ == Operation::kWrite) {
    phase_ = Phase::kFinishAfterWrite;
    finish_status_ = ToGrpcStatus(status);
  } else {
    FinishLocked(ToGrpcStatus(status));
  }
}

bool DecisionStream::done() const {
  absl::MutexLock lock(&mu_);
  return phase_ == Phase::kDone;
}

void DecisionStream::OnEvent(Event event, bool ok) {
  std::shared_ptr<DecisionStream> release;  // Freed last, after mu_.
  std::shared_ptr<DecisionStream> started;
  bool notify_done = false;
  {
    absl::MutexLock lock(&mu_);
    switch (event) {
      case Event::kStarted:
        if (!ok) {  // Shutting down: no call came, no done tag will.
          call_.reset();
          release = std::move(self_);
          break;
        }
        started = self_;
        break;
      case Event::kWritten:
        in_flight_ = Operation::kNone;
        if (!ok) {  // The call is gone; the done tag follows.
          if (phase_ != Phase::kDone) phase_ = Phase::kClosed;
          pending_.reset();
        } else if (phase_ == Phase::kFinishAfterWrite) {
          FinishLocked(finish_status_);
        } else if (phase_ == Phase::kOpen && pending_) {
          WritePendingLocked();
        }
        break;
      case Event::kFinished:
        in_flight_ = Operation::kNone;
        break;
      case Event::kDone:
        phase_ = Phase::kDone;
        pending_.reset();
        notify_done = true;
        break;
    }
    if (phase_ == Phase::kDone && in_flight_ == Operation::kNone && call_) {
      call_.reset();
      release = std::move(self_);
    }
  }
  if (started) {
    Request(settings_);  // The next call, before this one is served.
    settings_.on_start(started);
  }
  if (notify_done) settings_.on_done(this);
}

}  // namespace sipresolver::server
