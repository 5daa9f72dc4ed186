#include "lib/dns/srv_order.h"

#include <map>

#include "gtest/gtest.h"
#include "tests/support/fake_random.h"

namespace sipresolver::dns {
namespace {

SrvRecord Srv(const std::string& target, uint16_t priority, uint16_t weight) {
  return SrvRecord{target, priority, weight, 5060, 60};
}

std::vector<std::string> Targets(const std::vector<SrvRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.target);
  return out;
}

// R3: each SRV target keeps its own priority; lower values are tried first.
TEST(SrvOrderTest, R3_SortsByPriorityFirst) {
  testing::FakeRandom random;
  auto ordered = OrderSrvRecords(
      {Srv("c", 30, 10), Srv("a", 10, 10), Srv("b", 20, 10)}, random);
  EXPECT_EQ(Targets(ordered), (std::vector<std::string>{"a", "b", "c"}));
}

// RFC 2782: r is drawn from [0, total]; the first record whose running sum
// reaches r is chosen. With weights 10 and 30, r = 11..40 picks the second.
TEST(SrvOrderTest, R3_PicksByRunningWeightSum) {
  testing::FakeRandom pick_second({11});
  EXPECT_EQ(
      Targets(OrderSrvRecords({Srv("a", 1, 10), Srv("b", 1, 30)}, pick_second)),
      (std::vector<std::string>{"b", "a"}));
  testing::FakeRandom pick_first({10});
  EXPECT_EQ(
      Targets(OrderSrvRecords({Srv("a", 1, 10), Srv("b", 1, 30)}, pick_first)),
      (std::vector<std::string>{"a", "b"}));
}

TEST(SrvOrderTest, ZeroWeightRecordsGoFirstWhenDrawIsZero) {
  testing::FakeRandom random;  // Always 0.
  auto ordered =
      OrderSrvRecords({Srv("heavy", 1, 50), Srv("zero", 1, 0)}, random);
  EXPECT_EQ(Targets(ordered), (std::vector<std::string>{"zero", "heavy"}));
}

// Over many draws, each record comes first in proportion to its weight.
TEST(SrvOrderTest, R3_SplitsFirstChoiceByWeight) {
  RealRandom random;
  std::map<std::string, int> first;
  const int kRuns = 20000;
  for (int i = 0; i < kRuns; ++i) {
    first[OrderSrvRecords({Srv("a", 1, 10), Srv("b", 1, 30), Srv("c", 1, 60)},
                          random)
              .front()
              .target]++;
  }
  EXPECT_NEAR(first["a"] / double(kRuns), 0.1, 0.02);
  EXPECT_NEAR(first["b"] / double(kRuns), 0.3, 0.03);
  EXPECT_NEAR(first["c"] / double(kRuns), 0.6, 0.03);
}

TEST(SrvOrderTest, KeepsEveryRecord) {
  RealRandom random;
  auto ordered = OrderSrvRecords(
      {Srv("a", 2, 0), Srv("b", 1, 5), Srv("c", 1, 0), Srv("d", 2, 7)}, random);
  ASSERT_EQ(ordered.size(), 4u);
  EXPECT_EQ(ordered[0].priority, 1);
  EXPECT_EQ(ordered[1].priority, 1);
  EXPECT_EQ(ordered[2].priority, 2);
  EXPECT_EQ(ordered[3].priority, 2);
}

}  // namespace
}  // namespace sipresolver::dns
