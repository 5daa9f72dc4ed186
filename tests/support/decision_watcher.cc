#include "tests/support/decision_watcher.h"

namespace sipresolver::testing {

v1::WatchDecisionRequest WatchRequest(const std::string& agent,
                                      const std::string& server,
                                      bool redundancy) {
  v1::WatchDecisionRequest r;
  r.set_agent_id(agent);
  r.mutable_profile()->set_proxy_server(server);
  r.mutable_profile()->set_proxy_server_redundancy(redundancy);
  return r;
}

DecisionWatcher::DecisionWatcher(v1::SipResolver::Stub& stub,
                                 const v1::WatchDecisionRequest& request)
    : reader_(stub.WatchDecision(&context_, request)) {
  thread_ = std::thread([this] {
    v1::Decision decision;
    while (reader_->Read(&decision)) {
      absl::MutexLock lock(&mu_);
      queue_.push_back(decision);
      if (!decision.heartbeat()) all_.push_back(decision);
    }
    grpc::Status status = reader_->Finish();
    absl::MutexLock lock(&mu_);
    end_ = status;
  });
}

DecisionWatcher::~DecisionWatcher() {
  context_.TryCancel();
  thread_.join();
}

std::optional<v1::Decision> DecisionWatcher::WaitFor(
    const std::function<bool(const v1::Decision&)>& match,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (true) {
    while (!queue_.empty()) {
      v1::Decision d = queue_.front();
      queue_.erase(queue_.begin());
      if (match(d)) return d;
    }
    if (end_ || absl::Now() >= deadline) return std::nullopt;
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](DecisionWatcher* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return !w->queue_.empty() || w->end_.has_value();
            },
            this),
        deadline);
  }
}

std::vector<v1::Decision> DecisionWatcher::Received() {
  absl::MutexLock lock(&mu_);
  return all_;
}

std::optional<grpc::Status> DecisionWatcher::WaitForEnd(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](DecisionWatcher* w)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return w->end_.has_value(); },
          this),
      timeout);
  return end_;
}

}  // namespace sipresolver::testing
