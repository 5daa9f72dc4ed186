#include "server/decision_hub.h"

#include "absl/strings/str_cat.h"

namespace sipresolver::server {

DecisionHub::DecisionHub(const WatcherContext& context) : context_(context) {
  context_.health.SetListener([this](const health::EndpointStatus& status) {
    for (auto& [key, entry] : watchers_) entry.watcher->OnHealth(status);
    if (health_observer_) health_observer_(status);
  });
  context_.health.SetPanicListener([this](bool suspect) {
    for (auto& [key, entry] : watchers_)
      entry.watcher->OnProbePathSuspect(suspect);
  });
}

DecisionHub::~DecisionHub() {
  context_.health.SetListener(nullptr);
  context_.health.SetPanicListener(nullptr);
}

absl::Status DecisionHub::Subscribe(const std::shared_ptr<DecisionSink>& stream,
                                    const WatchRequest& request,
                                    const std::string& peer) {
  if (context_.health.policy().empty()) {
    return absl::PermissionDeniedError(
        "no decisions: --probe_allow is empty, so no server may be probed");
  }
  const WatchOptions& limits = context_.options;
  if (static_cast<int>(streams_.size()) >= limits.max_streams) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", streams_.size(),
                     " decision streams (--max_streams)"));
  }
  // find, not operator[]: a refused call must not leave an entry behind.
  const auto peer_streams = streams_per_peer_.find(peer);
  const int open =
      peer_streams == streams_per_peer_.end() ? 0 : peer_streams->second;
  if (open >= limits.max_streams_per_peer) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this connection has ", open,
                     " decision streams (--max_streams_per_connection)"));
  }
  const std::string key = decision::ProfileKey(request.profile);
  auto it = watchers_.find(key);
  if (it == watchers_.end()) {
    if (static_cast<int>(watchers_.size()) >= limits.max_watchers) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the server watches ", watchers_.size(),
                       " distinct profiles (--max_watchers)"));
    }
    it = watchers_
             .emplace(key, Entry{std::make_unique<ProfileWatcher>(
                                     context_, request.profile),
                                 nullptr})
             .first;
  }
  if (absl::Status s = it->second.watcher->Subscribe(stream, request);
      !s.ok()) {
    ReapWhenIdle(
        key);  // It stays a while: an agent retrying is refused at once.
    return s;
  }
  it->second.reap.reset();
  streams_[stream.get()] = StreamInfo{key, peer};
  ++streams_per_peer_[peer];
  ReportCounts();
  return absl::OkStatus();
}

void DecisionHub::Unsubscribe(DecisionSink* stream) {
  auto node = streams_.extract(stream);
  if (node.empty()) return;
  const StreamInfo& info = node.mapped();
  if (--streams_per_peer_[info.peer] == 0) streams_per_peer_.erase(info.peer);
  auto it = watchers_.find(info.key);
  if (it != watchers_.end()) it->second.watcher->Unsubscribe(stream);
  ReapWhenIdle(info.key);
  ReportCounts();
}

void DecisionHub::ReapWhenIdle(const std::string& key) {
  auto it = watchers_.find(key);
  if (it == watchers_.end() || !it->second.watcher->idle() || it->second.reap)
    return;
  it->second.reap =
      context_.timers.After(context_.options.idle_grace, [this, key] {
        auto w = watchers_.find(key);
        if (w != watchers_.end() && w->second.watcher->idle()) {
          watchers_.erase(w);
          ReportCounts();
        }
      });
}

void DecisionHub::EndAll(const absl::Status& status) {
  for (auto& [key, entry] : watchers_) entry.watcher->EndAll(status);
}

void DecisionHub::ReportCounts() {
  context_.metrics.SetWatchCounts(static_cast<int>(watchers_.size()),
                                  static_cast<int>(streams_.size()));
}

}  // namespace sipresolver::server
