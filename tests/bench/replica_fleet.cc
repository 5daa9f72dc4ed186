#include "tests/bench/replica_fleet.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/channel_config.h"
#include "client/decision_policy.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_interceptor.h"

namespace sipresolver::testing {
namespace {

using grpc::experimental::InterceptionHookPoints;

// "ipv4:127.0.0.1:50051" -> 50051; 0 when unknown.
int PeerPort(const std::string& peer) {
  int port = 0;
  const size_t colon = peer.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(peer.substr(colon + 1), &port)) {
    return 0;
  }
  return port;
}

bool SameEndpoint(const v1::Candidate& a, const v1::Candidate& b) {
  return a.address() == b.address() && a.port() == b.port();
}

std::string Comparable(v1::Decision d) {
  d.clear_version();
  d.clear_generated_at();
  d.clear_reason();
  return d.ShortDebugString();
}

// Reports one WatchDecision call of agent `index` to the fleet.
class StreamObserver : public grpc::experimental::Interceptor {
 public:
  StreamObserver(grpc::experimental::ClientRpcInfo* info, ReplicaFleet& fleet,
                 int index)
      : info_(info), fleet_(fleet), index_(index) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (const auto* request = static_cast<const v1::WatchDecisionRequest*>(
              m->GetSendMessage())) {
        fleet_.OnRequest(index_, request->last_applied_version());
      }
    }
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (const auto* d = static_cast<const v1::Decision*>(m->GetRecvMessage()))
        fleet_.OnMessage(index_, PeerPort(info_->client_context()->peer()), *d);
    }
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_STATUS)) {
      fleet_.OnStreamEnd(index_, PeerPort(info_->client_context()->peer()));
    }
    m->Proceed();
  }

 private:
  grpc::experimental::ClientRpcInfo* info_;
  ReplicaFleet& fleet_;
  const int index_;
};

class ObserverFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ObserverFactory(ReplicaFleet& fleet, int index)
      : fleet_(fleet), index_(index) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    const char* method = info->method();
    const char* suffix = "/WatchDecision";
    const size_t n = std::strlen(method), k = std::strlen(suffix);
    if (n < k || std::strcmp(method + n - k, suffix) != 0) return nullptr;
    return new StreamObserver(info, fleet_, index_);
  }

 private:
  ReplicaFleet& fleet_;
  const int index_;
};

}  // namespace

ReplicaFleet::ReplicaFleet(std::string target, v1::ItspProfile profile,
                           bool health_check)
    : target_(std::move(target)),
      profile_(std::move(profile)),
      health_check_(health_check) {}

ReplicaFleet::~ReplicaFleet() { Stop(); }

std::string ReplicaFleet::AgentId(int i) const {
  return absl::StrCat("agent-", i);
}

void ReplicaFleet::Start(int agents) {
  {
    absl::MutexLock lock(&mu_);
    tracks_.resize(agents);
  }
  for (int i = 0; i < agents; ++i) {
    grpc::ChannelArguments args;
    args.SetServiceConfigJSON(client::AgentServiceConfig(health_check_));
    // Connections of its own, as each device has: gRPC would otherwise share
    // one connection per replica among all channels of this process.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        observers;
    observers.push_back(std::make_unique<ObserverFactory>(*this, i));
    client::AgentOptions options;
    options.channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        target_, grpc::InsecureChannelCredentials(), args,
        std::move(observers));
    options.profile = profile_;
    options.agent_id = AgentId(i);
    options.spread_mode = v1::SPREAD_MODE_SPREAD;
    options.on_decision = [this, i](const v1::Decision&,
                                    client::DecisionSource) {
      absl::MutexLock lock(&mu_);
      ++tracks_[i].on_decision_calls;
    };
    agents_.push_back(std::make_unique<client::Agent>(std::move(options)));
    threads_.emplace_back([agent = agents_.back().get()] {
      if (absl::Status s = agent->Run(); !s.ok())
        std::fprintf(stderr, "agent: %s\n", std::string(s.message()).c_str());
    });
  }
}

void ReplicaFleet::Stop() {
  for (auto& agent : agents_) agent->Stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  agents_.clear();
}

int ReplicaFleet::decided() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(
      std::count_if(tracks_.begin(), tracks_.end(),
                    [](const Track& t) { return t.last.has_value(); }));
}

std::map<int, int> ReplicaFleet::PerReplica() const {
  absl::MutexLock lock(&mu_);
  std::map<int, int> out;
  for (const Track& t : tracks_) ++out[t.port];
  return out;
}

std::vector<int> ReplicaFleet::AgentsOn(int port) const {
  absl::MutexLock lock(&mu_);
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(tracks_.size()); ++i)
    if (tracks_[i].port == port) out.push_back(i);
  return out;
}

std::optional<v1::Decision> ReplicaFleet::Held(int i) const {
  return agents_[i]->last_decision();
}

std::vector<ReplicaFleet::Move> ReplicaFleet::Moves() const {
  absl::MutexLock lock(&mu_);
  return moves_;
}

void ReplicaFleet::ClearMoves() {
  absl::MutexLock lock(&mu_);
  moves_.clear();
}

int ReplicaFleet::hook_runs() const {
  absl::MutexLock lock(&mu_);
  int runs = 0;
  for (const Track& t : tracks_) runs += std::max(0, t.on_decision_calls - 1);
  return runs;
}

int ReplicaFleet::version_regressions() const {
  absl::MutexLock lock(&mu_);
  return regressions_;
}

void ReplicaFleet::OnRequest(int i, uint64_t last_applied_version) {
  absl::MutexLock lock(&mu_);
  Track& t = tracks_[i];
  t.decided_on_stream = false;
  t.before_stream = t.max_version;
  t.sent_version = last_applied_version;
  t.stream_max = 0;
}

void ReplicaFleet::OnMessage(int i, int port, const v1::Decision& d) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  Track& t = tracks_[i];
  t.port = port;
  if (d.version() < t.stream_max) ++regressions_;
  t.stream_max = std::max(t.stream_max, d.version());
  t.max_version = std::max(t.max_version, d.version());
  if (d.heartbeat() || d.state() == v1::DECISION_STATE_SEARCHING) return;
  if (!t.decided_on_stream && t.last) {
    // The first decision of a new stream, after one that had decided.
    Move m;
    m.agent = i;
    m.from_port = t.served_on;
    m.to_port = port;
    m.ended = t.ended;
    m.resumed = now;
    m.version_increased = d.version() > t.before_stream;
    m.sent_last_version = t.sent_version == t.before_stream;
    m.same_decision = client::SameDecision(*t.last, d);
    m.failed_streams = t.failed_streams;
    m.failed_on_lost = t.failed_on_lost;
    m.same_servers = t.last->has_primary() == d.has_primary() &&
                     SameEndpoint(t.last->primary(), d.primary()) &&
                     t.last->has_secondary() == d.has_secondary() &&
                     SameEndpoint(t.last->secondary(), d.secondary());
    if (!m.same_decision) {
      m.before = Comparable(*t.last);
      m.after = Comparable(d);
    }
    moves_.push_back(m);
  }
  t.decided_on_stream = true;
  t.served_on = port;
  t.last = d;
}

void ReplicaFleet::OnStreamEnd(int i, int port) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  Track& t = tracks_[i];
  // The outage starts when the stream that served the agent ends; streams
  // that fail before deciding (a replica going away) extend it.
  if (t.decided_on_stream) {
    t.ended = now;
    t.failed_streams = t.failed_on_lost = 0;
  } else {
    ++t.failed_streams;
    t.failed_on_lost += port != 0 && port == t.served_on;
  }
  t.decided_on_stream = false;
  t.port = 0;
}

}  // namespace sipresolver::testing
