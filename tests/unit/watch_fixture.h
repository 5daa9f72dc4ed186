// WatchFixture: the decision hub with its profile watchers on simulated time,
// over the real resolver (scripted DNS answers), the real health tracker
// (scripted probe results) and the real engines. Agents are RecordingSinks.
#ifndef SIPRESOLVER_TESTS_UNIT_WATCH_FIXTURE_H_
#define SIPRESOLVER_TESTS_UNIT_WATCH_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/clock.h"
#include "lib/core/timer.h"
#include "lib/dns/caching_resolver.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "server/decision_hub.h"
#include "server/metrics.h"
#include "tests/support/fake_dns_transport.h"
#include "tests/support/fake_prober.h"
#include "tests/support/fake_random.h"

namespace sipresolver::server {

// One agent's stream: keeps what the watcher sent.
class RecordingSink : public DecisionSink {
 public:
  bool Offer(v1::Decision decision) override {
    decisions.push_back(std::move(decision));
    return true;
  }
  bool OfferHeartbeat(v1::Decision heartbeat) override {
    heartbeats.push_back(std::move(heartbeat));
    return true;
  }
  void End(const absl::Status& status, bool reconnect) override {
    ended = status;
    reconnect_now = reconnect;
  }
  bool CancelIfStalled() override {
    ++stall_checks;
    return !stalled;
  }
  const v1::Decision& last() const { return decisions.back(); }

  std::vector<v1::Decision> decisions;
  std::vector<v1::Decision> heartbeats;
  std::optional<absl::Status> ended;
  bool reconnect_now = false;
  int stall_checks = 0;
  bool stalled = false;  // What CancelIfStalled finds.
};

inline const sip::Endpoint kPbx1{"192.0.2.1", 5060, Transport::kUdp};
inline const sip::Endpoint kPbx2{"192.0.2.2", 5060, Transport::kUdp};

class WatchFixture : public ::testing::Test {
 protected:
  static constexpr dns::RecordType kA = dns::RecordType::kA;
  static constexpr dns::RecordType kSrv = dns::RecordType::kSrv;

  WatchFixture() {
    health_options_.intervals = {absl::Seconds(10), absl::Seconds(1), 0.0};
    health_options_.thresholds = {2, 2};
    // Probes last until the test answers them (Complete): no RTO runs out
    // in between (misses have their own tests: health_confirm_test).
    health_options_.rto = {absl::Hours(1), absl::Hours(1)};
    // itsp.test: SRV pbx1 (priority 10) then pbx2 (20), addresses in the
    // additional section.
    SetSrv("itsp.test", {{"pbx1.itsp.test", "192.0.2.1", 10},
                         {"pbx2.itsp.test", "192.0.2.2", 20}});
  }

  struct Target {
    std::string name;
    std::string address;
    uint16_t priority;
  };
  void SetSrv(const std::string& domain, const std::vector<Target>& targets,
              uint32_t ttl = 300) {
    std::vector<dns::SrvRecord> srv;
    std::vector<dns::AddressRecord> additional;
    for (const Target& t : targets) {
      srv.push_back(dns::SrvRecord{t.name, t.priority, 0, 5060, ttl});
      additional.push_back(dns::AddressRecord{t.name, t.address, ttl});
    }
    transport_.Set(domain, kSrv, testing::SrvAnswer(domain, srv, additional));
  }

  health::HealthTracker& tracker(const std::string& allow = "192.0.2.0/24") {
    if (!tracker_) {
      tracker_ = std::make_unique<health::HealthTracker>(
          prober_, timers_, clock_, random_, *health::ProbePolicy::Parse(allow),
          *health::RateLimiter::Create(1000, 1000, clock_.Now()),
          *health::CredentialStore::Parse(""), health_options_, &metrics_);
    }
    return *tracker_;
  }
  DecisionHub& hub() {
    if (!hub_) {
      hub_ = std::make_unique<DecisionHub>(WatcherContext{
          timers_, resolver_, tracker(), clock_, clock_, metrics_, options_});
    }
    return *hub_;
  }

  static WatchRequest Request(const std::string& agent_id,
                              const std::string& domain = "itsp.test") {
    WatchRequest request;
    request.profile.proxy_server = domain;
    request.profile.proxy_server_redundancy = true;
    request.agent_id = agent_id;
    return request;
  }
  absl::Status Subscribe(const std::shared_ptr<RecordingSink>& sink,
                         const WatchRequest& request,
                         const std::string& peer = "ipv4:127.0.0.1:40000") {
    return hub().Subscribe(sink, request, peer);
  }
  // Answers the probes in flight and lets `rounds` edge intervals pass.
  void RunProbes(int rounds = 4) {
    for (int i = 0; i < rounds; ++i) {
      prober_.Complete();
      timers_.Advance(absl::Seconds(1));
    }
  }

  SimulatedClock clock_;
  SimulatedTimers timers_{clock_};
  testing::FakeRandom random_;
  testing::FakeDnsTransport transport_;
  dns::CachingResolver dns_{transport_, clock_, dns::CacheLimits{}, nullptr};
  dns::DeviceResolver resolver_{dns_, random_};
  testing::FakeProber prober_;
  health::HealthOptions health_options_;
  Metrics metrics_;
  WatchOptions options_;
  std::unique_ptr<health::HealthTracker> tracker_;
  std::unique_ptr<DecisionHub> hub_;  // Destroyed first.
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_TESTS_UNIT_WATCH_FIXTURE_H_
