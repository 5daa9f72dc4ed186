// DecisionStream: one agent's WatchDecision call, on gRPC's callback API (no
// thread per stream).
//
// Decisions are offered from the event loop. One write is in flight at a
// time; an offer made meanwhile waits in a single pending slot, and a newer
// decision replaces it (coalescing), so a slow agent costs one message of
// memory, never delays other agents, and never gets an older decision after
// a newer one. A heartbeat only fills an empty slot.
//
// Lifetime: shared. gRPC holds the stream until OnDone; the hub holds it
// while subscribed. `on_done` (any thread) tells the hub to let go.
// Thread-safe.
#ifndef SIPRESOLVER_SERVER_DECISION_STREAM_H_
#define SIPRESOLVER_SERVER_DECISION_STREAM_H_

#include <functional>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "lib/core/clock.h"
#include "server/decision_sink.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class DecisionStream : public grpc::ServerWriteReactor<v1::Decision>,
                       public DecisionSink {
 public:
  using OnDoneCallback = std::function<void(DecisionStream*)>;

  // The stream keeps itself alive until gRPC is done with it. `context`
  // must be the call's; `clock` (how long a write has been in flight)
  // outlives it.
  static std::shared_ptr<DecisionStream> Create(
      OnDoneCallback on_done, grpc::CallbackServerContext* context,
      const Clock& clock, absl::Duration max_write_stall);

  bool Offer(const v1::Decision& decision) override;
  bool OfferHeartbeat(const v1::Decision& heartbeat) override;
  // `reconnect_now` puts v1::kReconnectKey in the trailing metadata.
  void End(const absl::Status& status, bool reconnect_now) override;
  bool CancelIfStalled() override;
  bool done() const;

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  DecisionStream(OnDoneCallback on_done, grpc::CallbackServerContext* context,
                 const Clock& clock, absl::Duration max_write_stall)
      : on_done_(std::move(on_done)),
        context_(context),
        clock_(clock),
        max_write_stall_(max_write_stall) {}
  void EndWith(const grpc::Status& status, bool reconnect_now);
  // Cancels the call if the write in flight is older than max_write_stall.
  bool StalledLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Put(const v1::Decision& decision, bool heartbeat);

  const OnDoneCallback on_done_;
  grpc::CallbackServerContext* const context_;
  const Clock& clock_;
  const absl::Duration max_write_stall_;
  std::shared_ptr<DecisionStream> self_;  // Released in OnDone.
  mutable absl::Mutex mu_;
  // Written by the one thread that set writing_; read by gRPC until
  // OnWriteDone.
  v1::Decision in_flight_;
  std::optional<v1::Decision> pending_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_STREAM_H_
