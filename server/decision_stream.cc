#include "server/decision_stream.h"

#include "grpcpp/server_context.h"
#include "server/grpc_status.h"
#include "sipresolver/v1/reconnect.h"

namespace sipresolver::server {

// gRPC may run a reaction inline on the thread that starts an operation, so
// StartWrite and Finish are called with mu_ released; the flags set under the
// lock make sure only one caller starts each.

std::shared_ptr<DecisionStream> DecisionStream::Create(
    OnDoneCallback on_done, grpc::CallbackServerContext* context,
    const Clock& clock, absl::Duration max_write_stall) {
  std::shared_ptr<DecisionStream> stream(
      new DecisionStream(std::move(on_done), context, clock, max_write_stall));
  stream->self_ = stream;
  return stream;
}

bool DecisionStream::Offer(const v1::Decision& decision) {
  return Put(decision, false);
}

bool DecisionStream::OfferHeartbeat(const v1::Decision& heartbeat) {
  return Put(heartbeat, true);
}

bool DecisionStream::StalledLocked() {
  return writing_ && clock_.Now() - write_started_ > max_write_stall_;
}

bool DecisionStream::Put(const v1::Decision& decision, bool heartbeat) {
  bool start = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || cancelling_) return true;
    if (StalledLocked()) {
      // The agent stopped reading. Cancelling ends the write in flight,
      // then the call (OnCancel, OnWriteDone, Finish, OnDone).
      cancelling_ = true;
      pending_.reset();
    } else if (writing_) {
      if (!heartbeat || !pending_) pending_ = decision;  // Newest wins.
      return true;
    } else {
      in_flight_ = decision;
      writing_ = true;
      write_started_ = clock_.Now();
      start = true;
    }
  }
  if (!start) {
    context_->TryCancel();
    return false;
  }
  StartWrite(&in_flight_);
  return true;
}

bool DecisionStream::CancelIfStalled() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || cancelling_ || !StalledLocked()) return true;
    cancelling_ = true;
    pending_.reset();
  }
  context_->TryCancel();
  return false;
}

void DecisionStream::End(const absl::Status& status, bool reconnect_now) {
  EndWith(ToGrpcStatus(status), reconnect_now);
}

void DecisionStream::EndWith(const grpc::Status& status, bool reconnect_now) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    // Read by gRPC only at Finish, which comes after this (here or after
    // the write in flight).
    if (reconnect_now)
      context_->AddTrailingMetadata(v1::kReconnectKey, v1::kReconnectNow);
    pending_.reset();
    if (writing_) {
      finish_after_write_ = status;
      return;
    }
    finished_ = true;
  }
  Finish(status);
}

bool DecisionStream::done() const {
  absl::MutexLock lock(&mu_);
  return done_;
}

void DecisionStream::OnWriteDone(bool ok) {
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {
      finish = grpc::Status::CANCELLED;  // The client is gone.
    } else if (finish_after_write_) {
      finish = finish_after_write_;
    } else if (pending_) {
      in_flight_ = *std::move(pending_);
      pending_.reset();
      writing_ = true;
      write_started_ = clock_.Now();
    } else {
      return;
    }
    if (finish) finished_ = true;
  }
  if (finish) {
    Finish(*finish);
  } else {
    StartWrite(&in_flight_);
  }
}

void DecisionStream::OnCancel() {
  EndWith(grpc::Status::CANCELLED, /*reconnect_now=*/false);
}

void DecisionStream::OnDone() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    finished_ = true;
  }
  on_done_(this);
  self_.reset();  // May destroy this: last statement.
}

}  // namespace sipresolver::server
