// WatchQueues: serves WatchDecision calls on gRPC's async API, spread over
// several completion queues, each drained by a thread of its own.
//
// Why not the callback API, like the other methods: Debian builds gRPC
// without NDEBUG, so a completion queue checks each completed operation
// against a plain list of every operation outstanding on it (cq_check_tag),
// a linear search. A streaming call keeps one operation outstanding for its
// whole life, and the callback API puts every call of the process on one
// queue: with 100,000 agents each write scanned a list of 100,000, and the
// fan-out to all agents grew with the square of their number. Spread over
// `queues` queues, a scan covers 1/queues of the calls.
//
// Each queue's thread also writes the decisions the loop offers to its
// streams (DecisionStream): the loop hands them over in batches, woken by an
// alarm on the queue.
#ifndef SIPRESOLVER_SERVER_WATCH_QUEUES_H_
#define SIPRESOLVER_SERVER_WATCH_QUEUES_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/alarm.h"
#include "grpcpp/server_builder.h"
#include "server/decision_stream.h"
#include "server/sip_resolver_service.h"

namespace sipresolver::server {

class WatchQueues {
 public:
  // Adds the queues to `builder`; call before BuildAndStart.
  WatchQueues(grpc::ServerBuilder& builder, SipResolverService& service,
              int queues);
  ~WatchQueues();  // Shutdown().
  WatchQueues(const WatchQueues&) = delete;
  WatchQueues& operator=(const WatchQueues&) = delete;

  // After BuildAndStart: takes calls, handing each to `on_start`; gRPC being
  // done with one is told to `on_done`. `clock` outlives this.
  void Start(const std::function<void(const std::shared_ptr<DecisionStream>&)>&
                 on_start,
             const std::function<void(DecisionStream*)>& on_done,
             const Clock& clock, absl::Duration max_write_stall);
  // After the server's Shutdown: drains and stops the queues.
  void Shutdown();

 private:
  // Streams with a decision to write, and the alarm that wakes the
  // queue's thread to write them.
  struct Queue final : QueueEvent {
    void OnEvent(bool ok) override;  // The alarm went off.
    void Schedule(std::shared_ptr<DecisionStream> stream);

    std::unique_ptr<grpc::ServerCompletionQueue> cq;
    StreamSettings settings;
    std::thread thread;
    grpc::Alarm alarm;
    absl::Mutex mu;
    std::vector<std::shared_ptr<DecisionStream>> to_write ABSL_GUARDED_BY(mu);
    bool alarm_set ABSL_GUARDED_BY(mu) = false;
    bool stopped ABSL_GUARDED_BY(mu) = false;
  };
  SipResolverService& service_;
  std::vector<std::unique_ptr<Queue>> queues_;
  absl::Mutex mu_;
  bool accepting_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_WATCH_QUEUES_H_
