// ResolveSnapshots: a repeated Resolve gets the loop's last answer for at
// most max_age and never past its smallest TTL; the count is bounded.
#include "server/resolve_snapshots.h"

#include "gtest/gtest.h"

namespace sipresolver::server {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'000'000);

dns::ServerSpec Spec(const std::string& server) {
  dns::ServerSpec spec;
  spec.server = server;
  spec.redundancy = true;
  return spec;
}

v1::ResolveResponse Answer(const std::string& address, uint32_t ttl = 300) {
  v1::ResolveResponse response;
  v1::Candidate* c = response.add_candidates();
  c->set_address(address);
  c->set_ttl_seconds(ttl);
  return response;
}

TEST(ResolveSnapshotsTest, SameQuestionSameAnswerUntilMaxAge) {
  ResolveSnapshots snapshots(absl::Milliseconds(250), 100);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow), nullptr);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  auto hit = snapshots.Find(Spec("itsp.test"), kNow + absl::Milliseconds(200));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->candidates(0).address(), "192.0.2.1");
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow + absl::Milliseconds(250)),
            nullptr);
}

TEST(ResolveSnapshotsTest, EveryFieldOfTheQuestionCounts) {
  ResolveSnapshots snapshots(absl::Seconds(1), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  dns::ServerSpec other_port = Spec("itsp.test");
  other_port.port = 5070;
  dns::ServerSpec no_redundancy = Spec("itsp.test");
  no_redundancy.redundancy = false;
  EXPECT_EQ(snapshots.Find(other_port, kNow), nullptr);
  EXPECT_EQ(snapshots.Find(no_redundancy, kNow), nullptr);
  EXPECT_EQ(snapshots.Find(Spec("other.test"), kNow), nullptr);
}

TEST(ResolveSnapshotsTest, NeverPastTheSmallestTtl) {
  ResolveSnapshots snapshots(absl::Seconds(5), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1", /*ttl=*/2), kNow);
  EXPECT_NE(snapshots.Find(Spec("itsp.test"), kNow + absl::Seconds(1)),
            nullptr);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow + absl::Seconds(2)),
            nullptr);
  snapshots.Put(Spec("zero.test"), Answer("192.0.2.2", /*ttl=*/0), kNow);
  EXPECT_EQ(snapshots.Find(Spec("zero.test"), kNow), nullptr);
}

TEST(ResolveSnapshotsTest, BoundedCountMakesRoomFromExpiredOnes) {
  ResolveSnapshots snapshots(absl::Milliseconds(250), 2);
  snapshots.Put(Spec("a.test"), Answer("192.0.2.1"), kNow);
  snapshots.Put(Spec("b.test"), Answer("192.0.2.2"), kNow);
  snapshots.Put(Spec("c.test"), Answer("192.0.2.3"), kNow);  // Full: dropped.
  EXPECT_EQ(snapshots.Find(Spec("c.test"), kNow), nullptr);
  EXPECT_NE(snapshots.Find(Spec("a.test"), kNow), nullptr);
  const absl::Time later = kNow + absl::Seconds(1);  // a and b expired.
  snapshots.Put(Spec("c.test"), Answer("192.0.2.3"), later);
  EXPECT_NE(snapshots.Find(Spec("c.test"), later), nullptr);
}

TEST(ResolveSnapshotsTest, ZeroAgeTurnsThemOff) {
  ResolveSnapshots snapshots(absl::ZeroDuration(), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow), nullptr);
}

}  // namespace
}  // namespace sipresolver::server
