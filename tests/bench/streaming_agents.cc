#include "tests/bench/streaming_agents.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/client_callback.h"

namespace sipresolver::testing {

// One agent: reads its WatchDecision stream until it ends, handing every
// Decision to the handler; counts itself in `ended` when the stream is done.
class StreamingAgent : public grpc::ClientReadReactor<v1::Decision> {
 public:
  StreamingAgent(v1::SipResolver::Stub& stub,
                 const v1::WatchDecisionRequest& request,
                 StreamingFleet::DecisionHandler on_decision,
                 std::atomic<int>& ended)
      : on_decision_(std::move(on_decision)), ended_(ended) {
    stub.async()->WatchDecision(&context_, &request, this);
    StartRead(&decision_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    on_decision_(decision_);
    StartRead(&decision_);
  }
  void OnDone(const grpc::Status&) override { ++ended_; }

 private:
  StreamingFleet::DecisionHandler on_decision_;
  std::atomic<int>& ended_;
  grpc::ClientContext context_;
  v1::Decision decision_;
};

StreamingFleet::StreamingFleet(const std::string& grpc_address,
                               int connections) {
  for (int i = 0; i < std::max(1, connections); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // Distinct connections.
    stubs_.push_back(v1::SipResolver::NewStub(grpc::CreateCustomChannel(
        grpc_address, grpc::InsecureChannelCredentials(), args)));
  }
}

StreamingFleet::~StreamingFleet() { CancelAll(); }

void StreamingFleet::Add(const v1::WatchDecisionRequest& request,
                         DecisionHandler on_decision) {
  v1::SipResolver::Stub& stub = *stubs_[agents_.size() % stubs_.size()];
  agents_.push_back(std::make_unique<StreamingAgent>(
      stub, request, std::move(on_decision), ended_));
}

void StreamingFleet::CancelAll(absl::Duration timeout) {
  for (auto& agent : agents_) agent->Cancel();
  const absl::Time deadline = absl::Now() + timeout;
  while (ended_ < size() && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(20));
  if (ended_ < size()) {
    // gRPC may still call a reactor whose stream has not ended: leak them
    // all rather than free one in use.
    std::fprintf(stderr,
                 "StreamingFleet: %d of %d streams did not end; leaking them\n",
                 size() - ended_.load(), size());
    for (auto& agent : agents_) agent.release();
  }
  agents_.clear();
}

}  // namespace sipresolver::testing
