#include "server/etcd/lease_keeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/etcd/etcd_status.h"

namespace sipresolver::etcd {
namespace {

// Pause between failed refreshes while the lease may still live.
constexpr absl::Duration kRetryInterval = absl::Milliseconds(200);

}  // namespace

LeaseKeeper::LeaseKeeper(const std::shared_ptr<grpc::Channel>& channel,
                         int64_t lease, absl::Duration ttl,
                         LostCallback on_lost)
    : stub_(etcdserverpb::Lease::NewStub(channel)),
      lease_(lease),
      ttl_(ttl),
      on_lost_(std::move(on_lost)),
      thread_([this] { Run(); }) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaseKeeper::SleepUntil(absl::Time until) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&stopping_), until);
  return !stopping_;
}

void LeaseKeeper::Run() {
  // The lease was granted (or last refreshed) before the keeper started, so
  // its TTL counted from now is an upper bound on its life: refresh at once
  // rather than trust the time that already passed.
  absl::Duration ttl = ttl_;
  absl::Time lost_at = absl::Now() + ttl;
  absl::Time next = absl::Now();
  absl::Status last_error;
  while (SleepUntil(next)) {
    const absl::Time sent = absl::Now();
    if (sent >= lost_at) {
      on_lost_(absl::Status(
          last_error.ok() ? absl::StatusCode::kDeadlineExceeded
                          : last_error.code(),
          absl::StrCat("etcd lease ", lease_, " not refreshed within its TTL ",
                       absl::FormatDuration(ttl),
                       "; last error: ", last_error.message())));
      return;
    }
    absl::StatusOr<absl::Duration> refreshed =
        Refresh(std::min(sent + ttl / 3, lost_at));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (refreshed.ok()) {
      if (*refreshed <= absl::ZeroDuration()) {
        on_lost_(absl::NotFoundError(absl::StrCat(
            "etcd lease ", lease_, " has expired or was revoked")));
        return;
      }
      ++refreshes_;
      ttl = *refreshed;
      lost_at = sent + ttl;  // etcd counts from later than `sent`.
      next = sent + ttl / 3;
      last_error = absl::OkStatus();
    } else {
      last_error = refreshed.status();
      next = std::min(absl::Now() + kRetryInterval, lost_at);
    }
  }
}

absl::StatusOr<absl::Duration> LeaseKeeper::Refresh(absl::Time deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  context.set_wait_for_ready(true);  // A member restarting: wait, bounded.
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    call_ = &context;
  }
  auto stream = stub_->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease_);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->Read(&response);
  // One refresh per stream: end it at once rather than wait for etcd to
  // close its side (a failed stream keeps the status gRPC reports).
  if (answered) context.TryCancel();
  const grpc::Status status = stream->Finish();
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  if (answered) return absl::Seconds(response.ttl());
  absl::Status error = FromGrpc(status, "LeaseKeepAlive");
  if (error.ok()) {
    error = absl::UnavailableError("etcd LeaseKeepAlive: no response");
  }
  return error;
}

}  // namespace sipresolver::etcd
