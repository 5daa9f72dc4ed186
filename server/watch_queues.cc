#include "server/watch_queues.h"

namespace sipresolver::server {
namespace {

// Calls requested ahead on each queue, so a burst of agents connecting is
// matched without waiting for the queue's thread.
constexpr int kCallsAhead = 8;

}  // namespace

void WatchQueues::Queue::Schedule(std::shared_ptr<DecisionStream> stream) {
  absl::MutexLock lock(&mu);
  if (stopped) return;
  to_write.push_back(std::move(stream));
  if (alarm_set) return;
  alarm_set = true;
  alarm.Set(cq.get(), gpr_time_0(GPR_CLOCK_MONOTONIC), this);  // Now.
}

void WatchQueues::Queue::OnEvent(bool /*ok*/) {
  std::vector<std::shared_ptr<DecisionStream>> batch;
  {
    absl::MutexLock lock(&mu);
    alarm_set = false;
    batch.swap(to_write);
  }
  for (const auto& stream : batch) stream->WriteQueued();
}

WatchQueues::WatchQueues(grpc::ServerBuilder& builder,
                         SipResolverService& service, int queues)
    : service_(service) {
  for (int i = 0; i < std::max(1, queues); ++i) {
    queues_.push_back(std::make_unique<Queue>());
    queues_.back()->cq = builder.AddCompletionQueue();
  }
}

WatchQueues::~WatchQueues() { Shutdown(); }

void WatchQueues::Start(
    const std::function<void(const std::shared_ptr<DecisionStream>&)>& on_start,
    const std::function<void(DecisionStream*)>& on_done, const Clock& clock,
    absl::Duration max_write_stall) {
  {
    absl::MutexLock lock(&mu_);
    accepting_ = true;
  }
  for (auto& queue : queues_) {
    Queue* q = queue.get();
    grpc::ServerCompletionQueue* cq = q->cq.get();
    q->settings.request_call = [this, cq](DecisionStream& s, void* tag) {
      // Under mu_: a queue is never asked for a call once shut down.
      absl::MutexLock lock(&mu_);
      if (!accepting_) return false;
      service_.RequestWatchDecision(s.context(), s.request_message(),
                                    s.writer(), cq, cq, tag);
      return true;
    };
    q->settings.on_start = on_start;
    q->settings.on_done = on_done;
    q->settings.schedule_write = [q](std::shared_ptr<DecisionStream> s) {
      q->Schedule(std::move(s));
    };
    q->settings.clock = &clock;
    q->settings.max_write_stall = max_write_stall;
    for (int i = 0; i < kCallsAhead; ++i) DecisionStream::Request(q->settings);
    q->thread = std::thread([cq] {
      void* tag = nullptr;
      bool ok = false;
      while (cq->Next(&tag, &ok)) static_cast<QueueEvent*>(tag)->OnEvent(ok);
    });
  }
}

void WatchQueues::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    accepting_ = false;
  }
  for (auto& q : queues_) {
    absl::MutexLock lock(&q->mu);
    q->stopped = true;  // No alarm is set on a queue shut down.
  }
  for (auto& q : queues_) {
    // Without a thread (Start not called: the server never started) no
    // operation was ever put on the queue. Destroying it shuts it down
    // too, without gRPC's complaint that a queue of a server went first.
    if (q->cq && q->thread.joinable()) q->cq->Shutdown();
  }
  for (auto& q : queues_) {
    if (q->thread.joinable()) q->thread.join();
  }
  for (auto& q : queues_) {
    q->cq.reset();
    absl::MutexLock lock(&q->mu);
    q->to_write.clear();
  }
}

}  // namespace sipresolver::server
