#include "server/etcd/prefix_watcher.h"

#include <algorithm>
#include <utility>

#include "server/etcd/etcd_client.h"

namespace sipresolver::etcd {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);

}  // namespace

PrefixWatcher::PrefixWatcher(const std::shared_ptr<grpc::Channel>& channel,
                             std::string prefix, int64_t start_revision,
                             Callbacks callbacks)
    : stub_(etcdserverpb::Watch::NewStub(channel)),
      prefix_(std::move(prefix)),
      next_revision_(start_revision),
      callbacks_(std::move(callbacks)),
      thread_([this] { Run(); }) {}

PrefixWatcher::~PrefixWatcher() { Stop(); }

void PrefixWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool PrefixWatcher::SleepFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void PrefixWatcher::Run() {
  absl::Duration backoff = kFirstBackoff;
  while (true) {
    int64_t compact_revision = 0;
    bool created = false;
    switch (WatchOnce(&compact_revision, &created)) {
      case StreamEnd::kStopped:
        return;
      case StreamEnd::kCompacted:
        if (callbacks_.on_compacted) callbacks_.on_compacted(compact_revision);
        return;
      case StreamEnd::kBroken:
        break;
    }
    if (created) backoff = kFirstBackoff;  // It worked for a while.
    if (!SleepFor(backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

PrefixWatcher::StreamEnd PrefixWatcher::WatchOnce(int64_t* compact_revision,
                                                  bool* created) {
  grpc::ClientContext context;
  context.set_wait_for_ready(true);  // Until etcd is back or Stop().
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return StreamEnd::kStopped;
    call_ = &context;
  }
  auto stream = stub_->Watch(&context);
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(prefix_);
  create->set_range_end(EtcdClient::PrefixEnd(prefix_));
  create->set_start_revision(next_revision_);
  StreamEnd end = StreamEnd::kBroken;
  etcdserverpb::WatchResponse response;
  if (stream->Write(request)) {
    while (stream->Read(&response)) {
      if (response.created()) {
        *created = true;
        // Watching "from now": pin the revision so that a reconnect
        // resumes from it rather than from a later "now".
        if (next_revision_ == 0) {
          next_revision_ = response.header().revision() + 1;
        }
      }
      if (response.compact_revision() != 0) {
        *compact_revision = response.compact_revision();
        end = StreamEnd::kCompacted;
        break;
      }
      if (response.canceled()) break;  // Broken: watch again.
      if (response.events_size() == 0) continue;
      std::vector<WatchEvent> events;
      events.reserve(response.events_size());
      for (const mvccpb::Event& e : response.events()) {
        events.push_back({e.type() == mvccpb::Event::DELETE
                              ? WatchEvent::Type::kDelete
                              : WatchEvent::Type::kPut,
                          e.kv().key(), e.kv().value(), e.kv().mod_revision()});
      }
      next_revision_ = events.back().mod_revision + 1;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;  // No callback after Stop().
      }
      if (callbacks_.on_events) callbacks_.on_events(std::move(events));
    }
  }
  context.TryCancel();
  stream->Finish();
  absl::MutexLock lock(&mu_);
  call_ = nullptr;
  return stopping_ ? StreamEnd::kStopped : end;
}

}  // namespace sipresolver::etcd
