// ReplicaFleet: many real device agents (client::Agent, the agent library,
// one thread each as in device software) for replica_bench. Each agent has a
// gRPC channel of its own to all replicas with client-side round robin, the
// way agents in Kubernetes reach the headless Service: the target lists the
// replicas' addresses (what the headless DNS name resolves to) and the
// service config picks round_robin. A client interceptor on each channel
// watches the agent's WatchDecision streams (which replica, versions, when a
// stream ended and when the next one decided) without changing the agent:
// what the bench measures is what the shipped agent does.
//
// Threading: the agents' callbacks and the interceptors run on the agents'
// threads; every accessor may be called from any thread.
#ifndef SIPRESOLVER_TESTS_BENCH_REPLICA_FLEET_H_
#define SIPRESOLVER_TESTS_BENCH_REPLICA_FLEET_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/agent.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::testing {

class ReplicaFleet {
 public:
  // An agent's stream ended on one replica and a later stream decided
  // (its first decision beyond SEARCHING), usually on another.
  struct Move {
    int agent = 0;
    int from_port = 0, to_port = 0;
    absl::Time ended, resumed;
    bool version_increased = false;  // > every version the agent had seen.
    bool sent_last_version = false;  // The request carried that version.
    bool same_decision = false;      // client::SameDecision.
    bool same_servers = false;       // Same primary and secondary.
    // Streams that ended without a decision in between (e.g. round robin
    // picked the replica going away again), and those on that replica.
    int failed_streams = 0, failed_on_lost = 0;
    // When the decision changed: both, without version, generated_at, reason.
    std::string before, after;
  };

  // `target`: e.g. "ipv4:127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3".
  // `health_check`: round robin skips replicas whose grpc.health.v1 status
  // is not SERVING (the service config's healthCheckConfig), e.g. draining.
  ReplicaFleet(std::string target, v1::ItspProfile profile,
               bool health_check = false);
  ~ReplicaFleet();  // Stop().

  // Starts `agents` agents (ids "agent-0"...), each on its own thread.
  void Start(int agents);
  void Stop();

  int size() const { return static_cast<int>(agents_.size()); }
  std::string AgentId(int i) const;
  const v1::ItspProfile& profile() const { return profile_; }
  // Agents that hold a decision beyond SEARCHING.
  int decided() const;
  // Replica port -> agents whose current stream is on it.
  std::map<int, int> PerReplica() const;
  std::vector<int> AgentsOn(int port) const;
  // The decision agent `i` holds (client::Agent::last_decision).
  std::optional<v1::Decision> Held(int i) const;

  // Moves since the last ClearMoves().
  std::vector<Move> Moves() const;
  void ClearMoves();
  // on_decision calls beyond each agent's first: hook runs.
  int hook_runs() const;
  // Decisions whose version was below an earlier one on the same stream.
  int version_regressions() const;

  // Called by the interceptor (see the .cc).
  void OnRequest(int i, uint64_t last_applied_version);
  void OnMessage(int i, int port, const v1::Decision& d);
  void OnStreamEnd(int i, int port);

 private:
  struct Track {
    int port = 0;       // Current stream's replica; 0 between streams.
    int served_on = 0;  // Replica of the last stream that decided.
    bool decided_on_stream = false;
    uint64_t max_version = 0;    // Over all streams: the agent's resume point.
    uint64_t before_stream = 0;  // max_version when this stream started.
    uint64_t sent_version = 0;   // last_applied_version of this stream.
    uint64_t stream_max = 0;
    absl::Time ended;
    std::optional<v1::Decision> last;  // Last decision beyond SEARCHING.
    int on_decision_calls = 0;
    int failed_streams = 0, failed_on_lost = 0;  // Since `ended`.
  };

  const std::string target_;
  const v1::ItspProfile profile_;
  const bool health_check_;
  std::vector<std::unique_ptr<client::Agent>> agents_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::vector<Track> tracks_ ABSL_GUARDED_BY(mu_);
  std::vector<Move> moves_ ABSL_GUARDED_BY(mu_);
  int regressions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_BENCH_REPLICA_FLEET_H_
