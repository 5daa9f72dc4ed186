// StreamingFleet: many simulated device agents for the benchmarks
// (fanout_bench, soak_bench). Each agent is one WatchDecision stream on
// gRPC's async API, its reads spread over a few completion queues with a
// thread each (no thread per agent, so 100,000 fit in one process; one
// queue for all would make every read scan all agents' outstanding reads,
// see server/watch_queues.h); the agents share a few distinct connections
// to sipresolverd. What an agent does with a Decision is the caller's.
// (tests/support/DecisionWatcher is the one-stream, thread-per-stream
// counterpart for tests that wait for a particular decision.)
#ifndef SIPRESOLVER_TESTS_BENCH_STREAMING_AGENTS_H_
#define SIPRESOLVER_TESTS_BENCH_STREAMING_AGENTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::testing {

class StreamingAgent;

class StreamingFleet {
 public:
  // Runs on a queue thread for every Decision an agent reads, heartbeats
  // included; never concurrently for the same agent.
  using DecisionHandler = std::function<void(const v1::Decision&)>;

  // Opens `connections` (at least 1) distinct gRPC connections to
  // `grpc_address` (host:port); no agents yet.
  StreamingFleet(const std::string& grpc_address, int connections,
                 int queues = 16);
  ~StreamingFleet();  // CancelAll(), then stops the queues.
  StreamingFleet(const StreamingFleet&) = delete;
  StreamingFleet& operator=(const StreamingFleet&) = delete;

  // Starts one more agent's stream, on the connections in turn (agent i on
  // connection i % connections); `on_decision` is the agent's own copy, so
  // it may keep per-agent state.
  void Add(const v1::WatchDecisionRequest& request,
           DecisionHandler on_decision);

  int size() const { return static_cast<int>(agents_.size()); }
  // Streams that have ended, for any reason (server, error or CancelAll).
  int ended() const { return ended_.load(); }

  // Cancels every stream, waits at most `timeout` for all of them to end,
  // then frees the agents.
  void CancelAll(absl::Duration timeout = absl::Seconds(30));

 private:
  std::vector<std::unique_ptr<v1::SipResolver::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  std::atomic<int> ended_{0};
  std::vector<std::unique_ptr<StreamingAgent>> agents_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_BENCH_STREAMING_AGENTS_H_
