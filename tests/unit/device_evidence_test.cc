// Device evidence: distinct reporters, the window, and bounded memory.
#include "lib/health/device_evidence.h"

#include <string>

#include "gtest/gtest.h"

namespace sipresolver::health {
namespace {

const sip::Endpoint kPbx{"192.0.2.10", 5060, Transport::kUdp};
const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(1);

class DeviceEvidenceTest : public ::testing::Test {
 protected:
  DeviceEvidenceTest() : evidence_(EvidenceOptions{3, absl::Minutes(10)}) {}
  void Report(const std::string& agent, const std::string& connection, bool ok,
              absl::Time at = kT0) {
    evidence_.Record(kPbx, Reporter::Of(agent, connection), ok, at);
  }
  DeviceTally Tally(absl::Time now = kT0,
                    absl::Time since = absl::InfinitePast()) {
    return evidence_.Tally(kPbx, since, now);
  }
  DeviceEvidence evidence_;
};

TEST_F(DeviceEvidenceTest, DistinctAgentsOnDistinctConnectionsCount) {
  Report("dev1", "ipv4:198.51.100.1:4000", true);
  Report("dev2", "ipv4:198.51.100.2:4000", true);
  Report("dev3", "ipv4:198.51.100.3:4000", false);
  EXPECT_EQ(Tally(), (DeviceTally{2, 1}));
}

TEST_F(DeviceEvidenceTest, OneAgentOnManyConnectionsIsOneReporter) {
  for (int i = 0; i < 10; ++i) Report("dev1", "conn" + std::to_string(i), true);
  EXPECT_EQ(Tally().successes, 1);
}

TEST_F(DeviceEvidenceTest, ManyAgentIdsOnOneConnectionAreOneReporter) {
  for (int i = 0; i < 10; ++i) Report("dev" + std::to_string(i), "conn", true);
  EXPECT_EQ(Tally().successes, 1);
}

TEST_F(DeviceEvidenceTest, AReportersLatestOutcomeReplacesItsEarlierOne) {
  Report("dev1", "conn1", true);
  Report("dev1", "conn1", false, kT0 + absl::Seconds(1));
  EXPECT_EQ(Tally(kT0 + absl::Seconds(1)), (DeviceTally{0, 1}));
}

TEST_F(DeviceEvidenceTest, ReportsCountWithinTheWindowAndSinceTheGivenTime) {
  Report("dev1", "conn1", true);
  Report("dev2", "conn2", true, kT0 + absl::Minutes(5));
  EXPECT_EQ(Tally(kT0 + absl::Minutes(5)).successes, 2);
  EXPECT_EQ(Tally(kT0 + absl::Minutes(11)).successes, 1);  // dev1 is too old.
  EXPECT_EQ(Tally(kT0 + absl::Minutes(5), kT0 + absl::Minutes(1)).successes, 1);
}

TEST_F(DeviceEvidenceTest, MemoryPerEndpointIsBoundedWhateverTheFleetSize) {
  for (int i = 0; i < 10000; ++i) {
    Report("dev" + std::to_string(i), "conn" + std::to_string(i), true);
  }
  EXPECT_EQ(Tally().successes, static_cast<int>(evidence_.max_reporters()));
  evidence_.Forget(kPbx);
  EXPECT_EQ(Tally().successes, 0);
}

// Shared between replicas (SetRemote): the union counts, under the same
// rule, whichever replica a report reached.
TEST_F(DeviceEvidenceTest, ReportsOtherReplicasReceivedCountWithOurs) {
  Report("dev1", "conn1", true);
  evidence_.SetRemote(kPbx, "replica-b",
                      {{Reporter::Of("dev2", "conn2"), true, absl::Seconds(5)}},
                      kT0);
  evidence_.SetRemote(kPbx, "replica-c",
                      {{Reporter::Of("dev3", "conn3"), true, absl::Seconds(1)}},
                      kT0);
  EXPECT_EQ(Tally(), (DeviceTally{3, 0}));
  // A replica's new list replaces its old one; empty forgets it.
  evidence_.SetRemote(kPbx, "replica-c", {}, kT0);
  EXPECT_EQ(Tally(), (DeviceTally{2, 0}));
}

TEST_F(DeviceEvidenceTest, OneReporterOnTwoReplicasCountsOnceAsItsLatest) {
  Report("dev1", "conn1", true, kT0 - absl::Seconds(10));
  evidence_.SetRemote(
      kPbx, "replica-b",
      {{Reporter::Of("dev1", "conn9"), false, absl::Seconds(2)}}, kT0);
  EXPECT_EQ(Tally(), (DeviceTally{0, 1}));
}

TEST_F(DeviceEvidenceTest, ExportGivesOurOwnReportsWithTheirAge) {
  Report("dev1", "conn1", true, kT0 - absl::Seconds(30));
  Report("dev2", "conn2", false, kT0 - absl::Minutes(11));  // Out of window.
  evidence_.SetRemote(kPbx, "replica-b",
                      {{Reporter::Of("dev3", "conn3"), true, absl::Seconds(1)}},
                      kT0);
  std::vector<SharedReport> out =
      evidence_.Export(kPbx, absl::InfinitePast(), kT0);
  ASSERT_EQ(out.size(), 1u);  // Not the remote one, not the stale one.
  EXPECT_EQ(out[0].reporter.agent, Reporter::Of("dev1", "x").agent);
  EXPECT_TRUE(out[0].registered);
  EXPECT_EQ(out[0].age, absl::Seconds(30));
  // Reporter hashes are the same in every process (replicas compare them).
  EXPECT_EQ(Reporter::Of("dev1", "conn1").agent,
            Reporter::Of("dev1", "other").agent);
}

TEST_F(DeviceEvidenceTest, ARemoteListIsBoundedLikeOurOwn) {
  std::vector<SharedReport> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(
        {Reporter::Of("dev" + std::to_string(i), "conn" + std::to_string(i)),
         true, absl::Seconds(100 - i)});
  }
  evidence_.SetRemote(kPbx, "replica-b", many, kT0);
  EXPECT_EQ(Tally().successes, static_cast<int>(evidence_.max_reporters()));
}

}  // namespace
}  // namespace sipresolver::health
