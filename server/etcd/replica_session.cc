#include "server/etcd/replica_session.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::etcd {

absl::Status ReplicaSession::Validate(const ReplicaSessionOptions& options) {
  if (options.replica_id.empty() ||
      absl::StrContains(options.replica_id, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("replica_id: \"", options.replica_id,
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
      key_(absl::StrCat(options_.prefix, "replicas/", options_.replica_id)),
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

void ReplicaSession::Hold(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  held_[key] = value;
  held_dirty_.insert(key);
}

void ReplicaSession::Release(const std::string& key) {
  absl::MutexLock lock(&mu_);
  if (held_.erase(key) > 0) held_dirty_.insert(key);
}

void ReplicaSession::Write(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  writes_[key] = value;
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
    // A new lease: every held key is written again under it.
    for (const auto& [key, value] : held_) held_dirty_.insert(key);
  }
  absl::StatusOr<EtcdLease> lease = client_.Grant(options_.lease_ttl);
  if (!lease.ok()) return lease.status();
  // A lease is ended here where etcd answers (revoking deletes our keys at
  // once; an expiring lease keeps them one TTL), and left to expire where
  // it does not (a revocation could only wait for that).
  auto revoke = [&] {
    client_.Revoke(lease->id, options_.lease_ttl).IgnoreError();
  };
  if (absl::Status s = client_.CreateIfAbsent(key_, "", lease->id); !s.ok()) {
    if (s.code() != absl::StatusCode::kAlreadyExists) return s;
    revoke();
    return absl::FailedPreconditionError(absl::StrCat(
        "replica id \"", options_.replica_id, "\" is held by another lease (",
        key_,
        "): another live replica has this id, or this one's previous "
        "run has not expired yet"));
  }
  std::unique_ptr<LeaseKeeper> keeper =
      client_.KeepAlive(*lease, [this](absl::Status why) {
        absl::MutexLock lock(&mu_);
        lease_lost_ = true;
        if (!ended_) ended_ = std::move(why);
      });
  absl::StatusOr<EtcdRange> listed = client_.GetPrefix(options_.prefix);
  if (!listed.ok()) return listed.status();
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      callbacks_.on_snapshot(std::move(listed->kvs));
      callbacks_.on_state(true, absl::OkStatus());
    }
  }
  std::unique_ptr<PrefixWatcher> watcher = client_.WatchPrefix(
      options_.prefix, listed->revision + 1,
      {.on_events =
           [this](std::vector<WatchEvent> events) {
             absl::MutexLock lock(&mu_);
             if (stopping_ || ended_) return;
             for (const WatchEvent& e : events) {
               if (e.type == WatchEvent::Type::kDelete && e.key == key_) {
                 // Deleted by an operator, or the lease gone before the
                 // keeper noticed: without it this replica is no member.
                 ended_ = absl::AbortedError(absl::StrCat(
                     key_, " was deleted while the session held it"));
                 return;
               }
             }
             callbacks_.on_events(std::move(events));
           },
       .on_compacted =
           [this](int64_t revision) {
             End(absl::DataLossError(
                 absl::StrCat("etcd compacted the history (revision ", revision,
                              ") while the watch was behind")));
           }});
  absl::Status why = ServeWrites(lease->id);
  watcher->Stop();
  keeper->Stop();
  bool lease_lost;
  {
    absl::MutexLock lock(&mu_);
    lease_lost = lease_lost_;
  }
  if (!lease_lost) revoke();
  return why;
}

absl::Status ReplicaSession::ServeWrites(int64_t lease) {
  while (true) {
    std::map<std::string, std::optional<std::string>> held;  // nullopt: gone.
    std::map<std::string, std::string> writes;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || ended_.has_value() || !held_dirty_.empty() ||
               !writes_.empty();
      };
      mu_.Await(absl::Condition(&work));
      if (stopping_) return absl::OkStatus();
      if (ended_) return *ended_;
      for (const std::string& key : held_dirty_) {
        auto it = held_.find(key);
        held[key] = it == held_.end() ? std::nullopt
                                      : std::optional<std::string>(it->second);
      }
      held_dirty_.clear();
      writes.swap(writes_);
    }
    absl::Status failed;
    for (const auto& [key, value] : held) {
      absl::Status s = value ? client_.Put(key, *value, lease).status()
                             : client_.Delete(key).status();
      if (!s.ok()) {
        failed = s;
        break;
      }
    }
    for (auto it = writes.begin(); failed.ok() && it != writes.end(); ++it) {
      failed = client_.Put(it->first, it->second).status();
    }
    if (!failed.ok()) {
      absl::MutexLock lock(&mu_);
      // Written again by the next session: held keys all are; a write
      // only if nothing newer replaced it meanwhile.
      for (auto& [key, value] : writes) writes_.emplace(key, std::move(value));
      if (!ended_) ended_ = failed;
    }
  }
}

void ReplicaSession::End(absl::Status why) {
  absl::MutexLock lock(&mu_);
  if (!ended_) ended_ = std::move(why);
}

}  // namespace sipresolver::etcd
