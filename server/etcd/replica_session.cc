#include "server/etcd/replica_session.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::etcd {

absl::Status ReplicaSession::Validate(const ReplicaSessionOptions& options) {
  if (options.replica_id.empty() ||
      absl::StrContains(options.replica_id, '/')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica_id: \"", options.replica_id,
        "\" must be a non-empty name without '/' (the pod name)"));
  }
  if (!absl::EndsWith(options.prefix, "/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd_prefix: \"", options.prefix, "\" must end with '/'"));
  }
  if (options.lease_ttl < absl::Seconds(1) ||
      options.retry_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "etcd_lease_ttl: must be >= 1s (and the retry interval > 0)");
  }
  return absl::OkStatus();
}

ReplicaSession::ReplicaSession(EtcdClient& client,
                               ReplicaSessionOptions options,
                               Callbacks callbacks)
    : client_(client),
      options_(std::move(options)),
      replicas_prefix_(absl::StrCat(options_.prefix, "replicas/")),
      key_(absl::StrCat(replicas_prefix_, options_.replica_id)),
      callbacks_(std::move(callbacks)),
      thread_([this] { Run(); }) {}

ReplicaSession::~ReplicaSession() { Stop(); }

void ReplicaSession::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ReplicaSession::Run() {
  while (true) {
    absl::Status why = RunOnce();  // Not OK unless stopped.
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    // Every failed attempt is reported, so that the owner can tell a cause
    // that changes (etcd down, then the id held by an old lease).
    callbacks_.on_state(false, why);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.retry_interval);
    if (stopping_) return;
  }
}

absl::Status ReplicaSession::RunOnce() {
  {
    absl::MutexLock lock(&mu_);
    ended_.reset();
    lease_lost_ = false;
    replicas_.clear();
  }
  absl::StatusOr<EtcdLease> lease = client_.Grant(options_.lease_ttl);
  if (!lease.ok()) return lease.status();
  // A lease is ended here where etcd answers (revoking deletes our key at
  // once; an expiring lease keeps it one TTL), and left to expire where it
  // does not (a revocation could only wait for that).
  auto revoke = [&] {
    client_.Revoke(lease->id, options_.lease_ttl).IgnoreError();
  };
  if (absl::Status s = client_.CreateIfAbsent(key_, "", lease->id); !s.ok()) {
    if (s.code() != absl::StatusCode::kAlreadyExists) return s;
    revoke();
    return absl::FailedPreconditionError(absl::StrCat(
        "replica id \"", options_.replica_id, "\" is held by another lease (",
        key_, "): another live replica has this id, or this one's previous "
              "run has not expired yet"));
  }
  std::unique_ptr<LeaseKeeper> keeper =
      client_.KeepAlive(*lease, [this](absl::Status why) {
        absl::MutexLock lock(&mu_);
        lease_lost_ = true;
        if (!ended_) ended_ = std::move(why);
      });
  absl::StatusOr<EtcdRange> listed = client_.GetPrefix(replicas_prefix_);
  if (!listed.ok()) return listed.status();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      keeper->Stop();
      revoke();
      return absl::OkStatus();
    }
    for (const EtcdKeyValue& kv : listed->kvs) {
      replicas_.insert(kv.key.substr(replicas_prefix_.size()));
    }
    callbacks_.on_state(true, absl::OkStatus());
    ReportReplicas();
  }
  std::unique_ptr<PrefixWatcher> watcher = client_.WatchPrefix(
      replicas_prefix_, listed->revision + 1,
      {.on_events =
           [this](std::vector<WatchEvent> events) {
             OnEvents(std::move(events));
           },
       .on_compacted =
           [this](int64_t revision) {
             End(absl::DataLossError(absl::StrCat(
                 "etcd compacted the replica list's history (revision ",
                 revision, ") while the watch was behind")));
           }});
  absl::Status why = AwaitEnd();
  watcher->Stop();
  keeper->Stop();
  // Stopped, or ended with etcd answering (our key deleted, the watch
  // compacted). A lost lease is gone or out of reach.
  bool lease_lost;
  {
    absl::MutexLock lock(&mu_);
    lease_lost = lease_lost_;
  }
  if (!lease_lost) revoke();
  return why;
}

absl::Status ReplicaSession::AwaitEnd() {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || ended_.has_value();
  };
  mu_.Await(absl::Condition(&done));
  return stopping_ ? absl::OkStatus() : *ended_;
}

void ReplicaSession::End(absl::Status why) {
  absl::MutexLock lock(&mu_);
  if (!ended_) ended_ = std::move(why);
}

void ReplicaSession::OnEvents(std::vector<WatchEvent> events) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || ended_) return;
  const std::set<std::string> before = replicas_;
  for (const WatchEvent& e : events) {
    std::string id = e.key.substr(replicas_prefix_.size());
    if (e.type == WatchEvent::Type::kPut) {
      replicas_.insert(std::move(id));
    } else if (id == options_.replica_id) {
      // Our own key deleted (an operator, or the lease gone without the
      // keeper noticing yet): without it we are no member.
      ended_ = absl::AbortedError(
          absl::StrCat(key_, " was deleted while the session held it"));
      return;
    } else {
      replicas_.erase(id);
    }
  }
  if (replicas_ != before) ReportReplicas();
}

void ReplicaSession::ReportReplicas() {
  callbacks_.on_replicas(
      std::vector<std::string>(replicas_.begin(), replicas_.end()));
}

}  // namespace sipresolver::etcd
