// Fail static in the health tracker: device evidence beside the probes, and
// the panic threshold (the service suspecting its own probe path).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/health/health_tracker.h"
#include "tests/unit/health_tracker_fixture.h"

namespace sipresolver::health {
namespace {

const sip::Endpoint kThird{"192.0.2.12", 5060, Transport::kUdp};

class HealthFailStaticTest : public HealthTrackerFixture {
 protected:
  HealthFailStaticTest() {
    options_.evidence = {3, absl::Minutes(10)};
    options_.panic_threshold = 0.5;
    options_.panic_min_domains = 2;
  }
  // Tracks `e` for `domain` and settles it with one probe answering `result`.
  void Settle(const sip::Endpoint& e, const std::string& domain,
              sip::ProbeResult result) {
    ASSERT_TRUE(tracker().Pin(e, domain).ok());  // A watcher needs it.
    prober_.Set(e, result);
    timers_.RunDue();
    prober_.Complete();
  }
  // Agents dev<first>..dev<first+n-1>, each on its own connection.
  void Devices(const sip::Endpoint& e, int first, int n, bool registered) {
    for (int i = first; i < first + n; ++i) {
      tracker().ReportRegistration(
          e,
          Reporter::Of("dev" + std::to_string(i), "conn" + std::to_string(i)),
          registered);
    }
  }
  EndpointStatus Status(const sip::Endpoint& e) { return *tracker().Get(e); }
};

TEST_F(HealthFailStaticTest,
       AQuorumOfDevicesRegisteringMakesAProbeFailingEndpointWork) {
  std::vector<HealthState> heard;
  tracker().SetListener(
      [&](const EndpointStatus& s) { heard.push_back(s.decision_state); });
  Settle(kPbx, "itsp.test", Timeout());  // Banned: the probes time out.
  ASSERT_EQ(Status(kPbx).decision_state, HealthState::kUnhealthy);
  Devices(kPbx, 0, 3, true);
  EXPECT_EQ(Status(kPbx).counters.state,
            HealthState::kUnhealthy);  // Still shown.
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kHealthy);
  EXPECT_EQ(Status(kPbx).devices.successes, 3);
  EXPECT_EQ(heard.back(), HealthState::kHealthy);
}

TEST_F(HealthFailStaticTest, FewerDevicesThanTheQuorumSteerNothing) {
  Settle(kPbx, "itsp.test", Timeout());
  Devices(kPbx, 0, 2, true);
  EXPECT_EQ(Status(kPbx).devices.successes, 2);
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kUnhealthy);
}

TEST_F(HealthFailStaticTest, ManyAgentIdsOnOneConnectionAreOneDevice) {
  Settle(kPbx, "itsp.test", Timeout());
  for (int i = 0; i < 50; ++i) {
    tracker().ReportRegistration(
        kPbx, Reporter::Of("dev" + std::to_string(i), "one"), true);
  }
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kUnhealthy);
}

TEST_F(HealthFailStaticTest, RegistrationsFromBeforeTheProbesFailedDoNotCount) {
  Settle(kPbx, "itsp.test", Reply(200));
  Devices(kPbx, 0, 3, true);
  clock_.Advance(absl::Seconds(1));
  prober_.Set(kPbx,
              Reply(503));  // The server really died after they registered.
  timers_.Advance(absl::Seconds(10));
  prober_.Complete();
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kUnhealthy);
  EXPECT_EQ(Status(kPbx).devices.successes, 0);
}

TEST_F(HealthFailStaticTest, ReportedFailuresReprobeButNeverMarkDown) {
  Settle(kPbx, "itsp.test", Reply(200));
  const size_t probes = prober_.requests().size();
  EXPECT_TRUE(
      tracker().ReportRegistration(kPbx, Reporter::Of("dev", "conn"), false));
  Devices(kPbx, 1, 5, false);
  EXPECT_EQ(Status(kPbx).counters.state, HealthState::kHealthy);
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kHealthy);
  timers_.RunDue();
  EXPECT_EQ(prober_.requests().size(), probes + 1);  // Probed at once.
}

TEST_F(HealthFailStaticTest, AQuorumOfDeviceFailuresConfirmsTheProbes) {
  Settle(kPbx, "itsp.test", Timeout());
  Devices(kPbx, 0, 2, false);
  EXPECT_FALSE(Status(kPbx).devices_confirm_failure);
  Devices(kPbx, 2, 1, false);
  EXPECT_TRUE(Status(kPbx).devices_confirm_failure);
}

TEST_F(HealthFailStaticTest, ReportsAboutUntrackedEndpointsAreIgnored) {
  EXPECT_FALSE(
      tracker().ReportRegistration(kOther, Reporter::Of("d", "c"), false));
  EXPECT_FALSE(tracker().Get(kOther).has_value());
  timers_.Advance(absl::Minutes(1));
  EXPECT_TRUE(prober_.requests().empty());  // Reports never start probes.
}

TEST_F(HealthFailStaticTest, DeviceEvidenceLapsesAfterItsWindow) {
  Settle(kPbx, "itsp.test", Timeout());
  Devices(kPbx, 0, 3, true);
  ASSERT_EQ(Status(kPbx).decision_state, HealthState::kHealthy);
  for (int i = 0; i < 70; ++i) {  // 11+ minutes of probes still failing.
    timers_.Advance(absl::Seconds(10));
    prober_.Complete();
  }
  EXPECT_EQ(Status(kPbx).decision_state, HealthState::kUnhealthy);
}

TEST_F(HealthFailStaticTest, OneDomainFailingIsThatItspsOutageNotPanic) {
  Settle(kPbx, "a.test", Timeout());
  Settle(kOther, "a.test", Timeout());
  Settle(kThird, "b.test", Reply(200));
  EXPECT_NEAR(tracker().probe_healthy_ratio(), 1.0 / 3, 1e-9);
  EXPECT_FALSE(tracker().probe_path_suspect());
}

TEST_F(HealthFailStaticTest,
       MostEndpointsOfSeveralDomainsFailingIsPanicUntilTheyRecover) {
  std::vector<bool> heard;
  tracker().SetPanicListener([&](bool suspect) { heard.push_back(suspect); });
  Settle(kPbx, "a.test", Timeout());
  Settle(kOther, "b.test", Timeout());
  Settle(kThird, "c.test", Reply(200));
  EXPECT_TRUE(tracker().probe_path_suspect());
  EXPECT_EQ(heard, std::vector<bool>{true});

  prober_.Set(kPbx, Reply(200));  // The probe path is back.
  AnswerFor(absl::Seconds(30));
  EXPECT_FALSE(tracker().probe_path_suspect());
  EXPECT_EQ(heard, (std::vector<bool>{true, false}));
}

TEST_F(HealthFailStaticTest, PanicThresholdZeroTurnsItOff) {
  options_.panic_threshold = 0;
  Settle(kPbx, "a.test", Timeout());
  Settle(kOther, "b.test", Timeout());
  EXPECT_FALSE(tracker().probe_path_suspect());
}

}  // namespace
}  // namespace sipresolver::health
