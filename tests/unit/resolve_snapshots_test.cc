// ResolveSnapshots: a repeated Resolve gets the loop's last resolution for
// at most max_age and never past its smallest TTL, each answer in an RFC 2782
// order of its own (R3); the count is bounded.
#include "server/resolve_snapshots.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/support/fake_random.h"

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

void AddSrv(v1::ResolveResponse& response, const std::string& target,
            const std::string& address, uint32_t priority, uint32_t weight) {
  v1::Candidate* c = response.add_candidates();
  c->set_target(target);
  c->set_address(address);
  c->set_port(5060);
  c->set_priority(priority);
  c->set_weight(weight);
  c->set_source(v1::CANDIDATE_SOURCE_SRV_SIP_UDP);
  c->set_ttl_seconds(300);
}

// The candidates' addresses of `response`, joined.
std::string Addresses(const v1::ResolveResponse& response) {
  std::vector<std::string> out;
  for (const v1::Candidate& c : response.candidates())
    out.push_back(c.address());
  return absl::StrJoin(out, ",");
}

class Snapshots {
 public:
  Snapshots(absl::Duration max_age, size_t max_entries)
      : snapshots(max_age, max_entries, random) {}
  // The answer's addresses, or "none".
  std::string Find(const dns::ServerSpec& spec, absl::Time now) {
    v1::ResolveResponse response;
    return snapshots.Answer(spec, now, response) ? Addresses(response) : "none";
  }
  void Put(const dns::ServerSpec& spec, const v1::ResolveResponse& resolved,
           absl::Time now) {
    snapshots.Put(spec, resolved, now);
  }
  testing::SeededRandom random{42};
  ResolveSnapshots snapshots;
};

TEST(ResolveSnapshotsTest, SameQuestionSameAnswerUntilMaxAge) {
  Snapshots snapshots(absl::Milliseconds(250), 100);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow), "none");
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow + absl::Milliseconds(200)),
            "192.0.2.1");
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow + absl::Milliseconds(250)),
            "none");
}

TEST(ResolveSnapshotsTest, EveryFieldOfTheQuestionCounts) {
  Snapshots snapshots(absl::Seconds(1), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  dns::ServerSpec other_port = Spec("itsp.test");
  other_port.port = 5070;
  dns::ServerSpec no_redundancy = Spec("itsp.test");
  no_redundancy.redundancy = false;
  EXPECT_EQ(snapshots.Find(other_port, kNow), "none");
  EXPECT_EQ(snapshots.Find(no_redundancy, kNow), "none");
  EXPECT_EQ(snapshots.Find(Spec("other.test"), kNow), "none");
}

TEST(ResolveSnapshotsTest, NeverPastTheSmallestTtl) {
  Snapshots snapshots(absl::Seconds(5), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1", /*ttl=*/2), kNow);
  EXPECT_NE(snapshots.Find(Spec("itsp.test"), kNow + absl::Seconds(1)), "none");
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow + absl::Seconds(2)), "none");
  snapshots.Put(Spec("zero.test"), Answer("192.0.2.2", /*ttl=*/0), kNow);
  EXPECT_EQ(snapshots.Find(Spec("zero.test"), kNow), "none");
}

TEST(ResolveSnapshotsTest, BoundedCountMakesRoomFromExpiredOnes) {
  Snapshots snapshots(absl::Milliseconds(250), 2);
  snapshots.Put(Spec("a.test"), Answer("192.0.2.1"), kNow);
  snapshots.Put(Spec("b.test"), Answer("192.0.2.2"), kNow);
  snapshots.Put(Spec("c.test"), Answer("192.0.2.3"), kNow);  // Full: dropped.
  EXPECT_EQ(snapshots.Find(Spec("c.test"), kNow), "none");
  EXPECT_NE(snapshots.Find(Spec("a.test"), kNow), "none");
  const absl::Time later = kNow + absl::Seconds(1);  // a and b expired.
  snapshots.Put(Spec("c.test"), Answer("192.0.2.3"), later);
  EXPECT_NE(snapshots.Find(Spec("c.test"), later), "none");
}

TEST(ResolveSnapshotsTest, ZeroAgeTurnsThemOff) {
  Snapshots snapshots(absl::ZeroDuration(), 100);
  snapshots.Put(Spec("itsp.test"), Answer("192.0.2.1"), kNow);
  EXPECT_EQ(snapshots.Find(Spec("itsp.test"), kNow), "none");
}

// The share of answers RFC 2782's draw gives `order` of records listed as
// `names` with `weights`: r uniform in [0, sum], the first record whose
// running sum reaches r, so the first one listed also takes r = 0.
double Rfc2782Share(std::vector<std::string> names, std::vector<int> weights,
                    const std::vector<std::string>& order) {
  double share = 1;
  for (const std::string& pick : order) {
    int sum = 0;
    for (int w : weights) sum += w;
    const size_t i =
        std::find(names.begin(), names.end(), pick) - names.begin();
    share *= (weights[i] + (i == 0 ? 1 : 0)) / double(sum + 1);
    names.erase(names.begin() + i);
    weights.erase(weights.begin() + i);
  }
  return share;
}

// R3: every answer from one snapshot draws its own weighted order, as a
// device draws at each lookup: weights 10/30/60 of one priority give the
// six orders RFC 2782's shares, not one draw's order for every caller.
TEST(ResolveSnapshotsTest, R3_EachAnswerDrawsItsOwnWeightedOrder) {
  Snapshots snapshots(absl::Seconds(1), 100);
  v1::ResolveResponse resolved;
  AddSrv(resolved, "a.test", "a", 10, 10);
  AddSrv(resolved, "b.test", "b", 10, 30);
  AddSrv(resolved, "c.test", "c", 10, 60);
  snapshots.Put(Spec("itsp.test"), resolved, kNow);
  std::map<std::string, int> orders;
  const int kAnswers = 20000;
  for (int i = 0; i < kAnswers; ++i)
    orders[snapshots.Find(Spec("itsp.test"), kNow)]++;
  std::vector<std::string> order = {"a", "b", "c"};
  do {
    const double share = Rfc2782Share({"a", "b", "c"}, {10, 30, 60}, order);
    const std::string key = absl::StrJoin(order, ",");
    EXPECT_NEAR(orders[key] / double(kAnswers), share, 0.01) << key;
  } while (std::next_permutation(order.begin(), order.end()));
}

// S4: without redundancy the one candidate returned is the first of each
// answer's own draw; priorities still come first (R3): priority 5 (weights
// 0/10/20) before 9, so 9 is never first.
TEST(ResolveSnapshotsTest, S4_WithoutRedundancyTheFirstOfEachDraw) {
  Snapshots snapshots(absl::Seconds(1), 100);
  v1::ResolveResponse resolved;
  AddSrv(resolved, "late.test", "late", 9, 50);
  AddSrv(resolved, "zero.test", "zero", 5, 0);
  AddSrv(resolved, "ten.test", "ten", 5, 10);
  AddSrv(resolved, "twenty.test", "twenty", 5, 20);
  dns::ServerSpec spec = Spec("itsp.test");
  spec.redundancy = false;
  snapshots.Put(spec, resolved, kNow);
  std::map<std::string, int> first;
  const int kAnswers = 20000;
  for (int i = 0; i < kAnswers; ++i) first[snapshots.Find(spec, kNow)]++;
  EXPECT_EQ(first["late"], 0);
  // r in [0, 30]: "zero" is first when r = 0 (RFC 2782), 1 time in 31.
  EXPECT_NEAR(first["zero"] / double(kAnswers), 1.0 / 31, 0.01);
  EXPECT_NEAR(first["ten"] / double(kAnswers), 10.0 / 31, 0.015);
  EXPECT_NEAR(first["twenty"] / double(kAnswers), 20.0 / 31, 0.015);
}

// A target's addresses stay together and in answer order; address records
// (R3: one priority, answer order) are never reordered; lookups are kept.
TEST(ResolveSnapshotsTest, TargetsKeepTheirAddressesAndARecordsTheirOrder) {
  Snapshots snapshots(absl::Seconds(1), 100);
  v1::ResolveResponse srv;
  AddSrv(srv, "two.test", "two-1", 10, 50);
  AddSrv(srv, "two.test", "two-2", 10, 50);
  AddSrv(srv, "one.test", "one", 10, 50);
  srv.add_lookups()->set_name("_sip._udp.itsp.test");
  snapshots.Put(Spec("itsp.test"), srv, kNow);
  std::map<std::string, int> orders;
  for (int i = 0; i < 1000; ++i) {
    v1::ResolveResponse answer;
    ASSERT_TRUE(snapshots.snapshots.Answer(Spec("itsp.test"), kNow, answer));
    ASSERT_EQ(answer.lookups_size(), 1);
    EXPECT_EQ(answer.lookups(0).name(), "_sip._udp.itsp.test");
    orders[Addresses(answer)]++;
  }
  EXPECT_EQ(orders.size(), 2u);
  EXPECT_GT(orders["two-1,two-2,one"], 0);
  EXPECT_GT(orders["one,two-1,two-2"], 0);

  v1::ResolveResponse a = Answer("192.0.2.2");
  *a.add_candidates() = Answer("192.0.2.1").candidates(0);
  snapshots.Put(Spec("plain.test"), a, kNow);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(snapshots.Find(Spec("plain.test"), kNow), "192.0.2.2,192.0.2.1");
}

}  // namespace
}  // namespace sipresolver::server
