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

}  // namespace
}  // namespace sipresolver::health
