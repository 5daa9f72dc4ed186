// The etcd client's unary operations (server/etcd/etcd_client.h) against a
// real etcd on loopback: keys, prefixes and revisions, "create if absent",
// leases taking their keys with them, a three-member cluster losing a
// member. Also pins the EtcdServer fixture.
#include "server/etcd/etcd_client.h"

#include <memory>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"

namespace sipresolver::testing {
namespace {

using etcd::EtcdClient;
using etcd::EtcdClientOptions;
using etcd::EtcdKeyValue;
using etcd::EtcdLease;
using etcd::EtcdRange;
using ::testing::ElementsAre;
using ::testing::Field;

// Whether `key` exists; false also on error (reported).
bool Exists(EtcdClient& client, const std::string& key) {
  absl::StatusOr<std::optional<EtcdKeyValue>> kv = client.Get(key);
  EXPECT_TRUE(kv.ok()) << kv.status();
  return kv.ok() && kv->has_value();
}

using EtcdClientTest = EtcdTest;

TEST_F(EtcdClientTest, PutGetAndPrefixCarryRevisions) {
  absl::StatusOr<int64_t> first = client_->Put("/r/a", "1");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<int64_t> second = client_->Put("/r/b", "2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, *first + 1);
  ASSERT_TRUE(client_->Put("/s/c", "3").ok());  // Outside the prefix.

  absl::StatusOr<std::optional<EtcdKeyValue>> a = client_->Get("/r/a");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->value, "1");
  EXPECT_EQ((*a)->mod_revision, *first);
  EXPECT_EQ((*a)->create_revision, *first);
  EXPECT_EQ((*a)->version, 1);

  absl::StatusOr<std::optional<EtcdKeyValue>> none = client_->Get("/r/zz");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  absl::StatusOr<EtcdRange> range = client_->GetPrefix("/r/");
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_THAT(range->kvs, ElementsAre(Field(&EtcdKeyValue::key, "/r/a"),
                                      Field(&EtcdKeyValue::key, "/r/b")));
  EXPECT_EQ(range->revision, *second + 1);  // The store's, after /s/c.

  absl::StatusOr<int64_t> deleted = client_->DeletePrefix("/r/");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);
  EXPECT_FALSE(Exists(*client_, "/r/a"));
  EXPECT_TRUE(Exists(*client_, "/s/c"));
}

TEST_F(EtcdClientTest, CreateIfAbsentSucceedsOnceThenReportsTheKeyExists) {
  EXPECT_TRUE(client_->CreateIfAbsent("/owner/x", "r1").ok());
  absl::Status again = client_->CreateIfAbsent("/owner/x", "r2");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  absl::StatusOr<std::optional<EtcdKeyValue>> kv = client_->Get("/owner/x");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->value, "r1");
}

TEST_F(EtcdClientTest, RevokingALeaseDeletesItsKeys) {
  absl::StatusOr<EtcdLease> lease = client_->Grant(absl::Seconds(60));
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(client_->Put("/replicas/r1", "addr", lease->id).ok());
  ASSERT_TRUE(client_->CreateIfAbsent("/owner/y", "r1", lease->id).ok());
  absl::StatusOr<std::optional<EtcdKeyValue>> kv = client_->Get("/replicas/r1");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->lease, lease->id);

  ASSERT_TRUE(client_->Revoke(lease->id).ok());
  EXPECT_FALSE(Exists(*client_, "/replicas/r1"));
  EXPECT_FALSE(Exists(*client_, "/owner/y"));
  EXPECT_EQ(client_->Revoke(lease->id).code(), absl::StatusCode::kNotFound);
}

// etcd 3.4 raises a TTL below its minimum (2 s with the default election
// timeout); the lease says what it got.
TEST_F(EtcdClientTest, GrantReportsTheTtlEtcdGave) {
  absl::StatusOr<EtcdLease> lease = client_->Grant(absl::Seconds(1));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->ttl, absl::Seconds(2));
}

TEST_F(EtcdClientTest, AnUnrefreshedLeaseExpiresWithItsKeys) {
  absl::StatusOr<EtcdLease> lease = client_->Grant(absl::Seconds(2));
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(client_->Put("/replicas/r2", "addr", lease->id).ok());
  EXPECT_TRUE(Eventually([&] { return !Exists(*client_, "/replicas/r2"); }));
}

// The first call after a restart finds the old connection dead: a read is
// retried, so it succeeds.
TEST_F(EtcdClientTest, ReadsSurviveARestartOfEtcd) {
  ASSERT_TRUE(client_->Put("/k", "before").ok());
  etcd_->Kill();
  absl::Status restarted = etcd_->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  absl::StatusOr<std::optional<EtcdKeyValue>> kv = client_->Get("/k");
  ASSERT_TRUE(kv.ok()) << kv.status();
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->value, "before");  // Acknowledged writes survive SIGKILL.
}

TEST(EtcdClientDeadlineTest, FailsWithTheDeadlineWhileEtcdIsDown) {
  absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  EtcdClientOptions options;
  options.endpoints = (*etcd)->endpoints();
  options.request_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  (*etcd)->Kill();
  absl::StatusOr<int64_t> put = (*client)->Put("/k", "v");
  EXPECT_EQ(put.status().code(), absl::StatusCode::kDeadlineExceeded)
      << put.status();
}

TEST(EtcdClusterTest, ThreeMembersServeWhileOneIsDown) {
  absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start(3);
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  std::unique_ptr<EtcdClient> client = ConnectTo(**etcd);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CreateIfAbsent("/owner/z", "r1").ok());
  (*etcd)->Kill(0);
  // If it led, a write meanwhile fails with UNAVAILABLE ("request timed
  // out, possibly due to previous leader failure", after ~7 s) until the
  // other two have elected a leader.
  ASSERT_TRUE(Eventually([&] { return client->Put("/k", "elected").ok(); },
                         absl::Seconds(60)));
  // Round robin skips the dead member; the other two keep a quorum. A
  // starved pair may hold another election meanwhile: writes then fail with
  // UNAVAILABLE (never retried by the client) and are tried again.
  for (int i = 0; i < 6; ++i) {
    absl::Status created;
    EXPECT_TRUE(Eventually([&] {
      created = client->CreateIfAbsent("/owner/z", "r2");
      return created.code() != absl::StatusCode::kUnavailable;
    }));
    EXPECT_EQ(created.code(), absl::StatusCode::kAlreadyExists) << created;
    EXPECT_TRUE(
        Eventually([&] { return client->Put("/k", absl::StrCat(i)).ok(); }));
  }
  ASSERT_TRUE((*etcd)->Restart().ok());
  EXPECT_TRUE(Exists(*client, "/owner/z"));
}

}  // namespace
}  // namespace sipresolver::testing
