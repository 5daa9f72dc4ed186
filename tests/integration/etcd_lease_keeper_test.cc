// LeaseKeeper (server/etcd/lease_keeper.h) against a real etcd: it keeps a
// short lease alive for several TTLs, lets it expire once stopped, reports
// a revoked lease and an etcd unreachable beyond the TTL, and stops while
// etcd is down.
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/etcd/etcd_client.h"
#include "server/etcd/lease_keeper.h"
#include "server/etcd/prefix_watcher.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"

namespace sipresolver::testing {
namespace {

using etcd::EtcdClient;
using etcd::EtcdKeyValue;
using etcd::EtcdLease;
using etcd::EtcdRange;
using etcd::LeaseKeeper;
using etcd::PrefixWatcher;
using etcd::WatchEvent;

// What on_lost reported, read from the test's thread.
class LostRecorder {
 public:
  LeaseKeeper::LostCallback Callback() {
    return [this](absl::Status why) {
      absl::MutexLock lock(&mu_);
      ++calls_;
      why_ = std::move(why);
    };
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  absl::Status why() const {
    absl::MutexLock lock(&mu_);
    return why_;
  }

 private:
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status why_ ABSL_GUARDED_BY(mu_);
};

class LeaseKeeperTest : public EtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(EtcdTest::SetUp());
    absl::StatusOr<EtcdLease> lease = client_->Grant(absl::Seconds(2));
    ASSERT_TRUE(lease.ok()) << lease.status();
    lease_ = *lease;
    ASSERT_TRUE(client_->Put(kKey, "addr", lease_.id).ok());
  }

  bool KeyExists() {
    absl::StatusOr<std::optional<EtcdKeyValue>> kv = client_->Get(kKey);
    EXPECT_TRUE(kv.ok()) << kv.status();
    return kv.ok() && kv->has_value();
  }

  static constexpr char kKey[] = "/replicas/r1";
  EtcdLease lease_;
  LostRecorder lost_;
};

TEST_F(LeaseKeeperTest, KeepsAShortLeaseAliveForSeveralTtls) {
  std::unique_ptr<LeaseKeeper> keeper =
      client_->KeepAlive(lease_, lost_.Callback());
  // Nine refreshes at ttl/3 span three TTLs; a watch on the key sees an
  // expiry whenever it would happen, not only at a sample.
  absl::StatusOr<EtcdRange> now = client_->GetPrefix(kKey);
  ASSERT_TRUE(now.ok()) << now.status();
  absl::Mutex mu;
  int deletes = 0;
  PrefixWatcher::Callbacks callbacks;
  callbacks.on_events = [&](std::vector<WatchEvent> events) {
    absl::MutexLock lock(&mu);
    for (const WatchEvent& e : events)
      deletes += e.type == WatchEvent::Type::kDelete ? 1 : 0;
  };
  callbacks.on_compacted = [](int64_t) {};
  std::unique_ptr<PrefixWatcher> watch =
      client_->WatchPrefix(kKey, now->revision + 1, std::move(callbacks));
  ASSERT_TRUE(
      Eventually([&] { return keeper->refreshes() >= 9; }, absl::Seconds(120)))
      << lost_.why();
  EXPECT_TRUE(KeyExists());
  watch->Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(deletes, 0);
  EXPECT_EQ(lost_.calls(), 0) << lost_.why();
}

TEST_F(LeaseKeeperTest, AStoppedKeeperLetsTheLeaseExpire) {
  std::unique_ptr<LeaseKeeper> keeper =
      client_->KeepAlive(lease_, lost_.Callback());
  keeper->Stop();
  EXPECT_TRUE(Eventually([&] { return !KeyExists(); }));
  EXPECT_EQ(lost_.calls(), 0);
}

TEST_F(LeaseKeeperTest, ReportsARevokedLeaseAsNotFound) {
  std::unique_ptr<LeaseKeeper> keeper =
      client_->KeepAlive(lease_, lost_.Callback());
  ASSERT_TRUE(client_->Revoke(lease_.id).ok());
  ASSERT_TRUE(Eventually([&] { return lost_.calls() > 0; }));
  EXPECT_EQ(lost_.why().code(), absl::StatusCode::kNotFound) << lost_.why();
  keeper.reset();
  EXPECT_EQ(lost_.calls(), 1);
}

TEST_F(LeaseKeeperTest, ReportsLossWhenEtcdIsUnreachableBeyondTheTtl) {
  std::unique_ptr<LeaseKeeper> keeper =
      client_->KeepAlive(lease_, lost_.Callback());
  etcd_->Kill();
  ASSERT_TRUE(Eventually([&] { return lost_.calls() > 0; }));
  const absl::StatusCode code = lost_.why().code();
  EXPECT_TRUE(code == absl::StatusCode::kUnavailable ||
              code == absl::StatusCode::kDeadlineExceeded)
      << lost_.why();
}

TEST_F(LeaseKeeperTest, StopsWhileEtcdIsDown) {
  std::unique_ptr<LeaseKeeper> keeper =
      client_->KeepAlive(lease_, lost_.Callback());
  etcd_->Kill();
  keeper->Stop();  // Cancels the refresh that waits for etcd.
  keeper.reset();
  EXPECT_EQ(lost_.calls(), 0);
}

}  // namespace
}  // namespace sipresolver::testing
