// HealthTrackerFixture: a HealthTracker on a simulated clock with a scripted
// prober (FakeProber), shared by the tracker's unit tests.
#ifndef SIPRESOLVER_TESTS_UNIT_HEALTH_TRACKER_FIXTURE_H_
#define SIPRESOLVER_TESTS_UNIT_HEALTH_TRACKER_FIXTURE_H_

#include <algorithm>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lib/health/health_tracker.h"
#include "tests/support/fake_prober.h"
#include "tests/support/fake_random.h"

namespace sipresolver::health {

using testing::FakeProber;
using testing::Reply;
using testing::Timeout;

inline const sip::Endpoint kPbx{"192.0.2.10", 5060, Transport::kUdp};
inline const sip::Endpoint kOther{"192.0.2.11", 5060, Transport::kUdp};

class HealthTrackerFixture : public ::testing::Test {
 protected:
  HealthTrackerFixture() {
    options_.intervals = {absl::Seconds(10), absl::Seconds(1), 0.0};
    options_.thresholds = {2, 2};
    options_.idle_timeout = absl::Minutes(5);
  }

  HealthTracker& tracker(const std::string& allow = "192.0.2.0/24",
                         double rate = 1000,
                         const std::string& credentials = "") {
    if (!tracker_) {
      tracker_ = std::make_unique<HealthTracker>(
          prober_, timers_, clock_, random_, *ProbePolicy::Parse(allow),
          *RateLimiter::Create(rate, rate, clock_.Now()),
          *CredentialStore::Parse(credentials), options_, nullptr);
    }
    return *tracker_;
  }
  // Lets `d` pass with every probe answered (its scripted result) within
  // 10 ms, well inside any RTO: a server that answers, not one that is
  // silent until the test calls Complete().
  void AnswerFor(absl::Duration d) {
    for (const absl::Time end = clock_.Now() + d; clock_.Now() < end;) {
      prober_.Complete();
      timers_.Advance(std::min(absl::Milliseconds(10), end - clock_.Now()));
    }
    prober_.Complete();
  }
  HealthState State(const sip::Endpoint& e) {
    return tracker().Get(e)->counters.state;
  }

  SimulatedClock clock_;
  SimulatedTimers timers_{clock_};
  testing::FakeRandom random_;
  FakeProber prober_;
  HealthOptions options_;
  std::unique_ptr<HealthTracker> tracker_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_TESTS_UNIT_HEALTH_TRACKER_FIXTURE_H_
