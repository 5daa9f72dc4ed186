// PrefixWatcher (server/etcd/prefix_watcher.h) against a real etcd: ordered
// puts and deletes from a revision, exactly once across a SIGKILL and
// restart of etcd, compaction reported, Stop while etcd is down.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/etcd_client.h"
#include "server/etcd/prefix_watcher.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"

namespace sipresolver::testing {
namespace {

using etcd::EtcdClient;
using etcd::EtcdRange;
using etcd::PrefixWatcher;
using etcd::WatchEvent;
using ::testing::ElementsAre;

// "put KEY=VALUE@REV" / "delete KEY@REV".
std::string Describe(const WatchEvent& e) {
  return e.type == WatchEvent::Type::kPut
             ? absl::StrCat("put ", e.key, "=", e.value, "@", e.mod_revision)
             : absl::StrCat("delete ", e.key, "@", e.mod_revision);
}

// What the callbacks delivered, read from the test's thread.
class Recorder {
 public:
  PrefixWatcher::Callbacks Callbacks() {
    PrefixWatcher::Callbacks c;
    c.on_events = [this](const std::vector<WatchEvent>& events) {
      absl::MutexLock lock(&mu_);
      for (const WatchEvent& e : events) events_.push_back(Describe(e));
    };
    c.on_compacted = [this](int64_t revision) {
      absl::MutexLock lock(&mu_);
      compacted_ = revision;
    };
    return c;
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  int64_t compacted() const {
    absl::MutexLock lock(&mu_);
    return compacted_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
};

class PrefixWatcherTest : public EtcdTest {
 protected:
  int64_t Put(const std::string& key, const std::string& value) {
    absl::StatusOr<int64_t> revision = client_->Put(key, value);
    EXPECT_TRUE(revision.ok()) << revision.status();
    return revision.ok() ? *revision : -1;
  }
  int64_t Delete(const std::string& key) {
    EXPECT_TRUE(client_->Delete(key).ok());
    absl::StatusOr<EtcdRange> now = client_->GetPrefix("/");
    return now.ok() ? now->revision : -1;
  }

  Recorder recorder_;
};

TEST_F(PrefixWatcherTest, DeliversPutsAndDeletesInOrderFromARevision) {
  Put("/health/a", "old");  // Before the snapshot: not delivered.
  absl::StatusOr<EtcdRange> snapshot = client_->GetPrefix("/health/");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const int64_t r = snapshot->revision;
  // Written before the watcher starts, delivered since it starts at r + 1.
  Put("/health/a", "up");
  std::unique_ptr<PrefixWatcher> watcher =
      client_->WatchPrefix("/health/", r + 1, recorder_.Callbacks());
  Put("/other/x", "1");  // Outside the prefix.
  Put("/health/b", "down");
  Delete("/health/a");
  const std::vector<std::string> want = {
      absl::StrCat("put /health/a=up@", r + 1),
      absl::StrCat("put /health/b=down@", r + 3),
      absl::StrCat("delete /health/a@", r + 4)};
  EXPECT_TRUE(Eventually([&] { return recorder_.events().size() >= 3; }));
  EXPECT_EQ(recorder_.events(), want);
}

TEST_F(PrefixWatcherTest, ResumesAfterEtcdIsKilledWithoutLossOrRepeat) {
  // From a known revision: a watch "from now" may be created after the
  // first Put on a busy machine.
  absl::StatusOr<etcd::EtcdRange> now = client_->GetPrefix("/health/");
  ASSERT_TRUE(now.ok()) << now.status();
  std::unique_ptr<PrefixWatcher> watcher = client_->WatchPrefix(
      "/health/", now->revision + 1, recorder_.Callbacks());
  const int64_t r1 = Put("/health/a", "1");
  ASSERT_TRUE(Eventually([&] { return !recorder_.events().empty(); }));
  const int64_t r2 = Put("/health/b", "2");
  ASSERT_TRUE(Eventually([&] { return recorder_.events().size() >= 2; }));

  etcd_->Kill();
  ASSERT_TRUE(etcd_->Restart().ok()) << etcd_->ReadLogs();
  // Written while the watcher reconnects (its stream broke with the kill).
  const int64_t r3 = Put("/health/c", "3");
  const int64_t r4 = Delete("/health/a");
  ASSERT_TRUE(Eventually([&] { return recorder_.events().size() >= 4; }));
  EXPECT_THAT(recorder_.events(),
              ElementsAre(absl::StrCat("put /health/a=1@", r1),
                          absl::StrCat("put /health/b=2@", r2),
                          absl::StrCat("put /health/c=3@", r3),
                          absl::StrCat("delete /health/a@", r4)));
}

TEST_F(PrefixWatcherTest, ReportsCompactionOfTheStartRevision) {
  const int64_t r1 = Put("/health/a", "1");
  Put("/health/a", "2");
  const int64_t r3 = Put("/health/a", "3");
  ASSERT_TRUE(client_->Compact(r3).ok());
  std::unique_ptr<PrefixWatcher> watcher =
      client_->WatchPrefix("/health/", r1 + 1, recorder_.Callbacks());
  ASSERT_TRUE(Eventually([&] { return recorder_.compacted() != 0; }));
  EXPECT_EQ(recorder_.compacted(), r3);
  EXPECT_TRUE(recorder_.events().empty());
}

TEST_F(PrefixWatcherTest, StopsWhileEtcdIsDown) {
  std::unique_ptr<PrefixWatcher> watcher =
      client_->WatchPrefix("/health/", 0, recorder_.Callbacks());
  etcd_->Kill();
  watcher->Stop();  // Cancels the stream waiting for etcd.
  watcher.reset();
  EXPECT_TRUE(recorder_.events().empty());
}

}  // namespace
}  // namespace sipresolver::testing
