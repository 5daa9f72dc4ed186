// Fleet spreading: weighted rendezvous ordering of equal-priority candidates.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "lib/core/stable_hash.h"
#include "lib/decision/spreading.h"

namespace sipresolver::decision {
namespace {

constexpr int kAgents = 10000;

dns::Candidate C(const std::string& address, uint16_t priority,
                 uint16_t weight) {
  return dns::Candidate{
      "t.itsp.test",
      address,
      5060,
      priority,
      weight,
      weight == 0 ? dns::CandidateSource::kA : dns::CandidateSource::kSrv,
      absl::Seconds(60)};
}

std::vector<std::string> Addresses(const std::vector<dns::Candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.address);
  return out;
}

std::string Agent(int i) { return "agent-" + std::to_string(i); }

// How many of kAgents agents get each address first.
std::map<std::string, int> FirstChoices(const std::vector<dns::Candidate>& cs) {
  std::map<std::string, int> count;
  for (int i = 0; i < kAgents; ++i)
    ++count[SpreadOrder(cs, Agent(i))[0].address];
  return count;
}

TEST(SpreadingTest, HashIsStableAcrossBuildsAndProcesses) {
  // Pinned: changing the hash reshuffles every fleet.
  EXPECT_EQ(StableHash64(""), 0xf52a15e9a9b5e89bull);
  EXPECT_EQ(StableHash64("agent-1"), 0x222fc0d9dfe479b2ull);
  const std::string key = std::string("agent-1") + '\0' + "192.0.2.1:5060";
  EXPECT_EQ(StableHash64(key), 0x09519c0b858649a4ull);
}

TEST(SpreadingTest, DeviceOrderKeepsTheGivenOrderExactly) {
  const std::vector<dns::Candidate> cs = {
      C("192.0.2.3", 10, 5), C("192.0.2.1", 10, 90), C("192.0.2.2", 20, 0)};
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(Addresses(SpreadOrder(cs, Agent(i), SpreadMode::kDeviceOrder)),
              Addresses(cs));
  }
}

TEST(SpreadingTest, SameAgentAlwaysGetsTheSameOrder) {
  const std::vector<dns::Candidate> cs = {
      C("192.0.2.1", 0, 0), C("192.0.2.2", 0, 0), C("192.0.2.3", 0, 0),
      C("192.0.2.4", 0, 0)};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Addresses(SpreadOrder(cs, Agent(i))),
              Addresses(SpreadOrder(cs, Agent(i))));
    // The order the candidates arrive in does not matter either.
    std::vector<dns::Candidate> reversed(cs.rbegin(), cs.rend());
    EXPECT_EQ(Addresses(SpreadOrder(cs, Agent(i))),
              Addresses(SpreadOrder(reversed, Agent(i))));
  }
}

TEST(SpreadingTest, PrioritiesAreNeverMixed) {
  const std::vector<dns::Candidate> cs = {
      C("192.0.2.1", 10, 1), C("192.0.2.2", 10, 1), C("192.0.2.3", 20, 1000),
      C("192.0.2.4", 20, 1), C("192.0.2.5", 30, 1)};
  for (int i = 0; i < 1000; ++i) {
    const auto out = SpreadOrder(cs, Agent(i));
    ASSERT_EQ(out.size(), cs.size());
    for (size_t j = 0; j < out.size(); ++j)
      EXPECT_EQ(out[j].priority, cs[j].priority);
  }
}

TEST(SpreadingTest, ARecordsOfWeightZeroSpreadEvenly) {
  const auto count = FirstChoices(
      {C("192.0.2.1", 0, 0), C("192.0.2.2", 0, 0), C("192.0.2.3", 0, 0)});
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [address, n] : count) {
    EXPECT_NEAR(n, kAgents / 3.0, kAgents * 0.02) << address;
  }
}

TEST(SpreadingTest, FirstChoiceIsProportionalToSrvWeight) {
  const auto count = FirstChoices(
      {C("192.0.2.1", 10, 60), C("192.0.2.2", 10, 30), C("192.0.2.3", 10, 10)});
  EXPECT_NEAR(count.at("192.0.2.1"), kAgents * 0.60, kAgents * 0.02);
  EXPECT_NEAR(count.at("192.0.2.2"), kAgents * 0.30, kAgents * 0.02);
  EXPECT_NEAR(count.at("192.0.2.3"), kAgents * 0.10, kAgents * 0.02);
}

TEST(SpreadingTest, RemovingACandidateMovesOnlyItsOwnAgents) {
  const std::vector<dns::Candidate> all = {
      C("192.0.2.1", 0, 0), C("192.0.2.2", 0, 0), C("192.0.2.3", 0, 0),
      C("192.0.2.4", 0, 0)};
  const std::vector<dns::Candidate> without_2 = {all[0], all[2], all[3]};
  std::map<std::string, int> moved_to;
  for (int i = 0; i < kAgents; ++i) {
    const std::string before = SpreadOrder(all, Agent(i))[0].address;
    const auto after = SpreadOrder(without_2, Agent(i));
    if (before != "192.0.2.2") {
      EXPECT_EQ(after[0].address, before) << Agent(i);
    } else {
      ++moved_to[after[0].address];
    }
    // The others keep their relative order: the failover path is unchanged.
    std::vector<std::string> expected;
    for (const auto& a : Addresses(SpreadOrder(all, Agent(i)))) {
      if (a != "192.0.2.2") expected.push_back(a);
    }
    EXPECT_EQ(Addresses(after), expected);
  }
  // Its agents spread over all the rest, not onto one.
  ASSERT_EQ(moved_to.size(), 3u);
  for (const auto& [address, n] : moved_to)
    EXPECT_GT(n, kAgents / 4 / 3 / 2) << address;
}

TEST(SpreadingTest, PortIsPartOfTheServer) {
  std::vector<dns::Candidate> cs = {C("192.0.2.1", 0, 0), C("192.0.2.1", 0, 0)};
  cs[1].port = 5070;
  const auto count = FirstChoices(cs);
  EXPECT_NEAR(count.at("192.0.2.1"), kAgents,
              0);  // Same address, both ports...
  int first_5070 = 0;
  for (int i = 0; i < kAgents; ++i)
    first_5070 += SpreadOrder(cs, Agent(i))[0].port == 5070;
  EXPECT_NEAR(first_5070, kAgents / 2, kAgents * 0.02);  // ...split by port.
}

TEST(SpreadingTest, EmptyAndSingleLists) {
  EXPECT_TRUE(SpreadOrder({}, "a").empty());
  EXPECT_EQ(SpreadOrder({C("192.0.2.1", 0, 0)}, "a").size(), 1u);
}

}  // namespace
}  // namespace sipresolver::decision
