#include "tests/bench/streaming_agents.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"

namespace sipresolver::testing {

// One agent: reads its WatchDecision stream until it ends, handing every
// Decision to the handler; counts itself in `ended` when the stream is done.
// Its events come from one queue's thread, one at a time.
class StreamingAgent {
 public:
  StreamingAgent(v1::SipResolver::Stub& stub, grpc::CompletionQueue& cq,
                 const v1::WatchDecisionRequest& request,
                 StreamingFleet::DecisionHandler on_decision,
                 std::atomic<int>& ended)
      : on_decision_(std::move(on_decision)), ended_(ended) {
    reader_ = stub.PrepareAsyncWatchDecision(&context_, request, &cq);
    reader_->StartCall(&started_);
  }
  void Cancel() { context_.TryCancel(); }

  static void Dispatch(void* tag, bool ok) {
    Tag* t = static_cast<Tag*>(tag);
    t->agent->OnEvent(t->event, ok);
  }

 private:
  enum class Event { kStarted, kRead, kFinished };
  struct Tag {
    StreamingAgent* agent;
    Event event;
  };
  void OnEvent(Event event, bool ok) {
    switch (event) {
      case Event::kRead:
        if (ok) on_decision_(decision_);
        [[fallthrough]];
      case Event::kStarted:
        if (ok) {
          reader_->Read(&decision_, &read_);
        } else {
          reader_->Finish(&status_, &finished_);
        }
        break;
      case Event::kFinished:
        ++ended_;
        break;
    }
  }

  StreamingFleet::DecisionHandler on_decision_;
  std::atomic<int>& ended_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReader<v1::Decision>> reader_;
  v1::Decision decision_;
  grpc::Status status_;
  Tag started_{this, Event::kStarted};
  Tag read_{this, Event::kRead};
  Tag finished_{this, Event::kFinished};
};

StreamingFleet::StreamingFleet(const std::string& grpc_address, int connections,
                               int queues) {
  for (int i = 0; i < std::max(1, connections); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // Distinct connections.
    stubs_.push_back(v1::SipResolver::NewStub(grpc::CreateCustomChannel(
        grpc_address, grpc::InsecureChannelCredentials(), args)));
  }
  for (int i = 0; i < std::max(1, queues); ++i) {
    queues_.push_back(std::make_unique<grpc::CompletionQueue>());
    threads_.emplace_back([cq = queues_.back().get()] {
      void* tag = nullptr;
      bool ok = false;
      while (cq->Next(&tag, &ok)) StreamingAgent::Dispatch(tag, ok);
    });
  }
}

StreamingFleet::~StreamingFleet() {
  CancelAll();
  for (auto& cq : queues_) cq->Shutdown();
  for (std::thread& t : threads_) t.join();
}

void StreamingFleet::Add(const v1::WatchDecisionRequest& request,
                         DecisionHandler on_decision) {
  const size_t i = agents_.size();
  agents_.push_back(std::make_unique<StreamingAgent>(
      *stubs_[i % stubs_.size()], *queues_[i % queues_.size()], request,
      std::move(on_decision), ended_));
}

void StreamingFleet::CancelAll(absl::Duration timeout) {
  for (auto& agent : agents_) agent->Cancel();
  const absl::Time deadline = absl::Now() + timeout;
  while (ended_ < size() && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(20));
  if (ended_ < size()) {
    // gRPC may still complete an operation of an agent whose stream has
    // not ended: leak them all rather than free one in use.
    std::fprintf(stderr,
                 "StreamingFleet: %d of %d streams did not end; leaking them\n",
                 size() - ended_.load(), size());
    for (auto& agent : agents_) agent.release();
  }
  agents_.clear();
  ended_ = 0;
}

}  // namespace sipresolver::testing
