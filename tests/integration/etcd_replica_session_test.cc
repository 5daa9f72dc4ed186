// ReplicaSession (server/etcd/replica_session.h) against a real etcd:
// replicas see each other, one that stops leaves the list, an id held by
// another lease waits for it, held keys live with the session and come back
// under a new lease, and a session survives etcd going away and coming
// back.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/etcd_client.h"
#include "server/etcd/replica_session.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"

namespace sipresolver::testing {
namespace {

using etcd::EtcdClient;
using etcd::EtcdLease;
using etcd::ReplicaSession;
using etcd::ReplicaSessionOptions;
using ::testing::ElementsAre;

// What a session reported, read from the test's thread.
class SessionRecorder {
 public:
  ReplicaSession::Callbacks Callbacks() {
    return {.on_state =
                [this](bool active, absl::Status why) {
                  absl::MutexLock lock(&mu_);
                  active_ = active;
                  why_ = std::move(why);
                  ++state_calls_;
                },
            .on_snapshot =
                [this](std::vector<etcd::EtcdKeyValue> kvs) {
                  absl::MutexLock lock(&mu_);
                  keys_.clear();
                  for (const auto& kv : kvs) keys_[kv.key] = kv.value;
                },
            .on_events =
                [this](std::vector<etcd::WatchEvent> events) {
                  absl::MutexLock lock(&mu_);
                  for (const auto& e : events) {
                    if (e.type == etcd::WatchEvent::Type::kPut) {
                      keys_[e.key] = e.value;
                    } else {
                      keys_.erase(e.key);
                    }
                  }
                }};
  }
  // The keys under the prefix as the session last told them.
  std::map<std::string, std::string> keys() const {
    absl::MutexLock lock(&mu_);
    return keys_;
  }
  bool active() const {
    absl::MutexLock lock(&mu_);
    return active_;
  }
  absl::Status why() const {
    absl::MutexLock lock(&mu_);
    return why_;
  }
  std::vector<std::string> replicas() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& [key, value] : keys_) {
      absl::string_view id = key;
      if (absl::ConsumePrefix(&id, "/sipresolver/replicas/")) {
        ids.emplace_back(id);
      }
    }
    return ids;
  }
  int state_calls() const {
    absl::MutexLock lock(&mu_);
    return state_calls_;
  }

 private:
  mutable absl::Mutex mu_;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status why_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> keys_ ABSL_GUARDED_BY(mu_);
  int state_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class ReplicaSessionTest : public EtcdTest {
 protected:
  std::unique_ptr<ReplicaSession> StartSession(const std::string& id,
                                               SessionRecorder& recorder) {
    ReplicaSessionOptions options;
    options.replica_id = id;
    options.lease_ttl = absl::Seconds(2);
    options.retry_interval = absl::Milliseconds(200);
    EXPECT_TRUE(ReplicaSession::Validate(options).ok());
    return std::make_unique<ReplicaSession>(*client_, options,
                                            recorder.Callbacks());
  }
};

TEST(ReplicaSessionOptionsTest, ValidateNamesTheBadField) {
  ReplicaSessionOptions options;
  options.replica_id = "";
  EXPECT_THAT(std::string(ReplicaSession::Validate(options).message()),
              ::testing::HasSubstr("replica_id"));
  options.replica_id = "a/b";
  EXPECT_THAT(std::string(ReplicaSession::Validate(options).message()),
              ::testing::HasSubstr("replica_id"));
  options.replica_id = "pod-0";
  options.prefix = "/sipresolver";
  EXPECT_THAT(std::string(ReplicaSession::Validate(options).message()),
              ::testing::HasSubstr("etcd_prefix"));
  options.prefix = "/sipresolver/";
  EXPECT_TRUE(ReplicaSession::Validate(options).ok());
}

TEST_F(ReplicaSessionTest, ReplicasSeeEachOtherAndOneThatStopsLeaves) {
  SessionRecorder a_seen, b_seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", a_seen);
  std::unique_ptr<ReplicaSession> b = StartSession("b", b_seen);
  const std::vector<std::string> both = {"a", "b"};
  ASSERT_TRUE(Eventually([&] { return a_seen.replicas() == both; }))
      << a_seen.why();
  ASSERT_TRUE(Eventually([&] { return b_seen.replicas() == both; }))
      << b_seen.why();
  EXPECT_TRUE(a_seen.active());
  EXPECT_TRUE(b_seen.active());
  EXPECT_EQ(a->key(), "/sipresolver/replicas/a");

  // Stop revokes the lease: the key goes at once, not one TTL later (not
  // timed here: the lease would expire anyway).
  b->Stop();
  EXPECT_TRUE(Eventually(
      [&] { return a_seen.replicas() == std::vector<std::string>{"a"}; }));
  absl::StatusOr<std::optional<etcd::EtcdKeyValue>> b_key =
      client_->Get("/sipresolver/replicas/b");
  ASSERT_TRUE(b_key.ok()) << b_key.status();
  EXPECT_FALSE(b_key->has_value());
  EXPECT_TRUE(a_seen.active());
}

TEST_F(ReplicaSessionTest, AnIdHeldByAnotherLeaseWaitsUntilItGoes) {
  absl::StatusOr<EtcdLease> other = client_->Grant(absl::Seconds(60));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(client_->Put("/sipresolver/replicas/a", "", other->id).ok());

  SessionRecorder seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", seen);
  ASSERT_TRUE(Eventually([&] { return seen.state_calls() >= 2; }));
  EXPECT_FALSE(seen.active());
  EXPECT_EQ(seen.why().code(), absl::StatusCode::kFailedPrecondition)
      << seen.why();
  EXPECT_THAT(std::string(seen.why().message()),
              ::testing::HasSubstr("replica id \"a\""));

  ASSERT_TRUE(client_->Revoke(other->id).ok());
  EXPECT_TRUE(Eventually([&] { return seen.active(); })) << seen.why();
  EXPECT_THAT(seen.replicas(), ElementsAre("a"));
}

TEST_F(ReplicaSessionTest, ADeletedKeyEndsTheSessionWhichStartsAgain) {
  SessionRecorder seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", seen);
  ASSERT_TRUE(Eventually([&] { return seen.active(); })) << seen.why();
  const int calls = seen.state_calls();
  ASSERT_TRUE(client_->Delete("/sipresolver/replicas/a").ok());
  // Inactive (ABORTED), then active again with a new lease.
  ASSERT_TRUE(Eventually([&] { return seen.state_calls() >= calls + 2; }));
  EXPECT_TRUE(Eventually([&] { return seen.active(); })) << seen.why();
  absl::StatusOr<std::optional<etcd::EtcdKeyValue>> key =
      client_->Get("/sipresolver/replicas/a");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(key->has_value());
}

TEST_F(ReplicaSessionTest, HeldKeysLiveWithTheSessionAndComeBackUnderANewOne) {
  SessionRecorder seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", seen);
  a->Hold("/sipresolver/wanted/udp:192.0.2.1:5060/a", "itsp.test");
  a->Hold("/sipresolver/wanted/udp:192.0.2.2:5060/a", "itsp.test");
  a->Release("/sipresolver/wanted/udp:192.0.2.2:5060/a");
  a->Write("/sipresolver/health/udp:192.0.2.1:5060", "state=healthy");
  const std::string held = "/sipresolver/wanted/udp:192.0.2.1:5060/a";
  ASSERT_TRUE(Eventually([&] {
    auto keys = seen.keys();
    return keys.count(held) > 0 &&
           keys.count("/sipresolver/health/udp:192.0.2.1:5060") > 0;
  })) << seen.why();
  EXPECT_EQ(seen.keys().count("/sipresolver/wanted/udp:192.0.2.2:5060/a"), 0u);
  absl::StatusOr<std::optional<etcd::EtcdKeyValue>> kv = client_->Get(held);
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status();
  const int64_t first_lease = (*kv)->lease;
  EXPECT_NE(first_lease, 0);
  absl::StatusOr<std::optional<etcd::EtcdKeyValue>> health =
      client_->Get("/sipresolver/health/udp:192.0.2.1:5060");
  ASSERT_TRUE(health.ok() && health->has_value());
  EXPECT_EQ((*health)->lease, 0);  // Outlives the replica.

  // A new session (its key deleted): the held key is written again, under
  // the new lease.
  ASSERT_TRUE(client_->Delete("/sipresolver/replicas/a").ok());
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::optional<etcd::EtcdKeyValue>> now = client_->Get(held);
    return now.ok() && now->has_value() && (*now)->lease != first_lease;
  }));
  // Stopped: held keys go with the lease, the plain one stays.
  a->Stop();
  kv = client_->Get(held);
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());
  health = client_->Get("/sipresolver/health/udp:192.0.2.1:5060");
  ASSERT_TRUE(health.ok());
  EXPECT_TRUE(health->has_value());
}

TEST_F(ReplicaSessionTest, SurvivesEtcdGoingAwayAndComingBack) {
  SessionRecorder seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", seen);
  ASSERT_TRUE(Eventually([&] { return seen.active(); })) << seen.why();

  etcd_->Kill();
  ASSERT_TRUE(Eventually([&] { return !seen.active(); }));
  const absl::StatusCode code = seen.why().code();
  EXPECT_TRUE(code == absl::StatusCode::kUnavailable ||
              code == absl::StatusCode::kDeadlineExceeded)
      << seen.why();

  ASSERT_TRUE(etcd_->Restart().ok());
  // etcd renews the old lease on restart; the session waits for it to
  // expire (or revokes it) and registers again.
  EXPECT_TRUE(Eventually([&] { return seen.active(); }, absl::Seconds(60)))
      << seen.why();
  EXPECT_THAT(seen.replicas(), ElementsAre("a"));
}

TEST_F(ReplicaSessionTest, StopsWhileEtcdIsDown) {
  SessionRecorder seen;
  std::unique_ptr<ReplicaSession> a = StartSession("a", seen);
  ASSERT_TRUE(Eventually([&] { return seen.active(); })) << seen.why();
  etcd_->Kill();
  a->Stop();  // Returns (bounded by the client's request timeouts).
  a.reset();
}

}  // namespace
}  // namespace sipresolver::testing
