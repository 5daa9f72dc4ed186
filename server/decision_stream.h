// DecisionStream: one agent's WatchDecision call, on gRPC's async API (the
// completion queues of WatchQueues; see there for why not the callback API).
//
// Decisions are offered from the event loop, which only puts them in the
// stream's single pending slot and hands the stream to its queue's thread to
// write: gRPC runs a write's transport work on the thread that starts it,
// and that way a fan-out to many agents is spread over the queue threads
// (and their writes to one connection go out together) instead of taking
// the loop. One write is in flight at a time; a newer decision replaces a
// pending one (coalescing), so a slow agent costs one message of memory,
// never delays other agents, and never gets an older decision after a newer
// one. A heartbeat only fills an empty slot.
//
// Lifetime: shared. The stream holds itself from the moment its call is
// requested until gRPC is done with the call and no operation of its is
// outstanding; then it frees its gRPC state, so whoever still holds it (the
// hub) holds a husk that ignores offers. `on_done` tells the hub to let go.
// Thread-safe: offers from the loop, completions from the queue threads.
#ifndef SIPRESOLVER_SERVER_DECISION_STREAM_H_
#define SIPRESOLVER_SERVER_DECISION_STREAM_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_stream.h"
#include "lib/core/clock.h"
#include "server/decision_sink.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class DecisionStream;

// What every stream of one server shares; outlives the streams' calls.
// What a completion queue's thread runs for each tag it takes.
class QueueEvent {
 public:
  virtual void OnEvent(bool ok) = 0;

 protected:
  ~QueueEvent() = default;
};

struct StreamSettings {
  // Requests the next WatchDecision call into `stream` (the generated
  // RequestWatchDecision, bound to the service and a completion queue);
  // false when the server no longer takes calls.
  std::function<bool(DecisionStream& stream, void* tag)> request_call;
  // A call arrived (on a queue thread): hand it to the hub.
  std::function<void(const std::shared_ptr<DecisionStream>&)> on_start;
  // gRPC is done with the call (any queue thread).
  std::function<void(DecisionStream*)> on_done;
  // Has the queue's thread call WriteQueued soon (from any thread).
  std::function<void(std::shared_ptr<DecisionStream>)> schedule_write;
  const Clock* clock = nullptr;  // How long a write has been in flight.
  absl::Duration max_write_stall = absl::Seconds(90);
};

class DecisionStream : public DecisionSink,
                       public std::enable_shared_from_this<DecisionStream> {
 public:
  // Asks gRPC for the next WatchDecision call; `settings` outlives it.
  static void Request(const StreamSettings& settings);
  // On the queue's thread, after schedule_write: starts writing what is
  // pending unless a write is in flight.
  void WriteQueued();

  // Valid from on_start until gRPC is done with the call.
  const v1::WatchDecisionRequest& request() const { return call_->request; }
  std::string peer() const;

  bool Offer(v1::Decision decision) override;
  bool OfferHeartbeat(v1::Decision heartbeat) override;
  // `reconnect_now` puts v1::kReconnectKey in the trailing metadata.
  void End(const absl::Status& status, bool reconnect_now) override;
  bool CancelIfStalled() override;
  bool done() const;

  // For gRPC's RequestWatchDecision.
  grpc::ServerContext* context() { return &call_->context; }
  v1::WatchDecisionRequest* request_message() { return &call_->request; }
  grpc::ServerAsyncWriter<v1::Decision>* writer() { return &call_->writer; }

 private:
  enum class Event { kStarted, kWritten, kFinished, kDone };
  struct Tag final : QueueEvent {
    Tag(DecisionStream* s, Event e) : stream(s), event(e) {}
    void OnEvent(bool ok) override { stream->OnEvent(event, ok); }
    DecisionStream* stream;
    Event event;
  };
  // The gRPC side, freed as soon as gRPC is done with it.
  struct Call {
    grpc::ServerContext context;
    v1::WatchDecisionRequest request;
    grpc::ServerAsyncWriter<v1::Decision> writer{&context};
  };

  explicit DecisionStream(const StreamSettings& settings);
  void OnEvent(Event event, bool ok);
  // Writes what is pending (there is something; no write is in flight).
  void WritePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cancels the call if the write in flight is older than max_write_stall.
  bool StalledLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Put(v1::Decision decision, bool heartbeat);

  const StreamSettings& settings_;
  Tag started_{this, Event::kStarted};
  Tag written_{this, Event::kWritten};
  Tag finished_tag_{this, Event::kFinished};
  Tag done_tag_{this, Event::kDone};
  std::shared_ptr<DecisionStream> self_;  // Until gRPC is done.
  // gRPC's operations are started and the call freed under mu_: they never
  // run our code inline (completions come through the queue).
  mutable absl::Mutex mu_;
  std::unique_ptr<Call> call_;  // Null once gRPC is done with it.
  // Where the call is. Operations (Write, Finish) start only while kOpen,
  // except the Finish that kFinishAfterWrite defers.
  enum class Phase {
    kOpen,
    kFinishAfterWrite,  // End came during a write: Finish(finish_status_).
    kCancelling,        // Stalled: TryCancel asked, the write will fail.
    kClosed,  // Finish started or the write failed; the done tag follows.
    kDone,    // The done tag came: gRPC is finished with the call.
  };
  // The operation in flight: at most one at a time.
  enum class Operation { kNone, kWrite, kFinish };
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kOpen;
  Operation in_flight_ ABSL_GUARDED_BY(mu_) = Operation::kNone;
  std::optional<v1::Decision> pending_ ABSL_GUARDED_BY(mu_);  // Newest wins.
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
  // WriteQueued will run: Put need not schedule it again.
  bool write_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_STREAM_H_
