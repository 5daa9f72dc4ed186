// SIP probes against a real Kamailio registrar on loopback: the prober's
// transactions and digest answers, and health tracking on real timers (S1,
// S6, N1).
#include <future>

#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/health/health_tracker.h"
#include "lib/sip/sip_prober.h"
#include "tests/support/eventually.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

using health::HealthState;
using sip::ProbeResult;

class SipProbingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.t1 = absl::Milliseconds(50);
    // Generous: a registrar on a saturated machine must not look dead. Only
    // the tests of a timeout wait for it.
    options_.timeout = absl::Seconds(3);
    prober_ = std::make_unique<sip::SipProber>(loop_.io_context(), loop_,
                                               clock_, random_, options_);
    loop_.Start();
  }
  void TearDown() override {
    loop_.RunSync([&] {
      tracker_.reset();
      prober_.reset();
    });
    loop_.Stop();
  }

  std::unique_ptr<KamailioServer> StartKamailio(KamailioConfig config = {}) {
    auto server = KamailioServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static sip::Endpoint EndpointOf(const KamailioServer& k,
                                  Transport t = Transport::kUdp) {
    return sip::Endpoint{"127.0.0.1", k.port(), t};
  }

  ProbeResult Probe(sip::ProbeRequest request) {
    std::promise<ProbeResult> done;
    loop_.Post([&] {
      prober_->Probe(request,
                     [&](ProbeResult r) { done.set_value(std::move(r)); });
    });
    auto future = done.get_future();
    if (future.wait_for(std::chrono::seconds(10)) !=
        std::future_status::ready) {
      ADD_FAILURE() << "probe did not complete";
      std::abort();  // The loop still references `done`: cannot go on.
    }
    return future.get();
  }

  sip::ProbeRequest Request(const sip::Endpoint& endpoint,
                            std::optional<sip::Credentials> credentials = {}) {
    sip::ProbeRequest r;
    r.endpoint = endpoint;
    r.domain = "sipresolver.test";
    r.credentials = std::move(credentials);
    return r;
  }

  // A tracker probing fast: settled every `settled` (200 ms), edge every
  // 100 ms.
  void StartTracker(const std::string& allow,
                    const std::string& credentials = "",
                    absl::Duration settled = absl::Milliseconds(200)) {
    health::HealthOptions options;
    options.intervals = {settled, absl::Milliseconds(100), 0.1};
    options.thresholds = {2, 2};
    loop_.RunSync([&] {
      tracker_ = std::make_unique<health::HealthTracker>(
          *prober_, loop_, clock_, random_, *health::ProbePolicy::Parse(allow),
          *health::RateLimiter::Create(100, 100, clock_.Now()),
          *health::CredentialStore::Parse(credentials), options, nullptr);
    });
  }
  absl::Status Touch(const sip::Endpoint& e) {
    absl::Status s;
    loop_.RunSync([&] { s = tracker_->Touch(e, "sipresolver.test"); });
    return s;
  }
  std::optional<health::EndpointStatus> Status(const sip::Endpoint& e) {
    std::optional<health::EndpointStatus> s;
    loop_.RunSync([&] { s = tracker_->Get(e); });
    return s;
  }
  // Waits (bounded only against a hang) until the endpoint is in `state`.
  bool WaitForState(const sip::Endpoint& e, HealthState state) {
    return testing::Eventually([&] {
      auto s = Status(e);
      return s && s->counters.state == state;
    });
  }

  EventLoop loop_;
  RealClock clock_;
  RealRandom random_;
  sip::ProberOptions options_;
  std::unique_ptr<sip::SipProber> prober_;
  std::unique_ptr<health::HealthTracker> tracker_;
};

TEST_F(SipProbingTest, S6_ChallengeWithoutCredentialsShowsAWorkingRegistrar) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(Request(EndpointOf(*kamailio)));
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kResponse) << r.error;
  EXPECT_EQ(r.status_code, 401);
  EXPECT_FALSE(r.authenticated);
  EXPECT_EQ(health::Classify(r, false, {}), health::Verdict::kSuccess);
}

// N1: the registrar reports the probe's source address in received=/rport=.
TEST_F(SipProbingTest, N1_ViaReceivedAndRportAreReported) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(Request(EndpointOf(*kamailio)));
  EXPECT_EQ(r.via_received, "127.0.0.1");
  ASSERT_TRUE(r.via_rport.has_value());
  EXPECT_GT(*r.via_rport, 0);
}

TEST_F(SipProbingTest, S6_RightCredentialsCompleteARegistration) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(
      Request(EndpointOf(*kamailio), sip::Credentials{"alice", "secret"}));
  EXPECT_EQ(r.status_code, 200) << r.error;
  EXPECT_TRUE(r.authenticated);
  EXPECT_EQ(health::Classify(r, true, {}), health::Verdict::kSuccess);
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 2);  // Challenge, then auth.
}

TEST_F(SipProbingTest, S6_WrongPasswordIsNotWorking) {
  auto kamailio = StartKamailio();
  ProbeResult r =
      Probe(Request(EndpointOf(*kamailio), sip::Credentials{"alice", "wrong"}));
  EXPECT_EQ(r.status_code, 401);
  EXPECT_TRUE(r.authenticated);
  EXPECT_EQ(health::Classify(r, true, {}), health::Verdict::kDefiniteFailure);
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 2);  // Answered once, no loop.
}

TEST_F(SipProbingTest, S6_UnavailableServerIsNotWorking) {
  KamailioConfig config;
  config.mode = KamailioConfig::kAlwaysUnavailable;
  auto kamailio = StartKamailio(config);
  ProbeResult r = Probe(Request(EndpointOf(*kamailio)));
  EXPECT_EQ(r.status_code, 503);
  EXPECT_EQ(health::Classify(r, false, {}), health::Verdict::kDefiniteFailure);
}

TEST_F(SipProbingTest, StoppedServerTimesOutAfterRetransmitting) {
  auto kamailio = StartKamailio();
  kamailio->Pause();
  const absl::Time start = absl::Now();
  ProbeResult r = Probe(Request(EndpointOf(*kamailio)));
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kTimeout);
  EXPECT_GE(absl::Now() - start, options_.timeout);
  EXPECT_LT(absl::Now() - start, options_.timeout + absl::Seconds(10));
  kamailio->Resume();
  // Timer E: retransmitted at 50, 150, 350 ms... before the timeout.
  EXPECT_TRUE(kamailio->WaitForRequests("REGISTER", 3, absl::Seconds(10)));
}

TEST_F(SipProbingTest, ClosedPortIsANetworkError) {
  auto kamailio = StartKamailio();
  const uint16_t port = kamailio->port();
  kamailio->Stop();
  ProbeResult r = Probe(Request({"127.0.0.1", port, Transport::kUdp}));
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
}

TEST_F(SipProbingTest, TcpProbe) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(Request(EndpointOf(*kamailio, Transport::kTcp),
                                sip::Credentials{"alice", "secret"}));
  EXPECT_EQ(r.status_code, 200) << r.error;
}

TEST_F(SipProbingTest, OptionsProbe) {
  auto kamailio = StartKamailio();
  sip::ProbeRequest request = Request(EndpointOf(*kamailio));
  request.use_options = true;
  ProbeResult r = Probe(request);
  EXPECT_EQ(r.status_code, 200) << r.error;
  EXPECT_EQ(kamailio->CountRequests("OPTIONS"), 1);
}

// S1/S6 on real timers: a registrar that stops answering is marked down
// within the threshold, and up again once it answers.
TEST_F(SipProbingTest, S6_SigstopMakesUnhealthySigcontHealthyAgain) {
  auto kamailio = StartKamailio();
  StartTracker("127.0.0.1/32");
  const sip::Endpoint e = EndpointOf(*kamailio);
  ASSERT_TRUE(Touch(e).ok());
  ASSERT_TRUE(WaitForState(e, HealthState::kHealthy));
  kamailio->Pause();
  // Two timeouts; timing is for the benchmarks.
  ASSERT_TRUE(WaitForState(e, HealthState::kUnhealthy));
  EXPECT_EQ(Status(e)->counters.consecutive_failures, 2);
  kamailio->Resume();
  ASSERT_TRUE(WaitForState(e, HealthState::kHealthy));
}

TEST_F(SipProbingTest, KilledServerIsUnhealthyAtOnceAndRecoversOnRestart) {
  auto kamailio = StartKamailio();
  // Settled probes 3 s apart: the failure count read once the endpoint is
  // down is the first probe's, however busy the machine.
  StartTracker("127.0.0.1/32", "sipresolver.test alice secret\n",
               absl::Seconds(3));
  const sip::Endpoint e = EndpointOf(*kamailio);
  ASSERT_TRUE(Touch(e).ok());
  ASSERT_TRUE(WaitForState(e, HealthState::kHealthy));
  EXPECT_EQ(Status(e)->last_response_code, 200);  // Registered for real.
  kamailio->Stop();
  ASSERT_TRUE(WaitForState(e, HealthState::kUnhealthy));
  EXPECT_EQ(Status(e)->counters.consecutive_failures, 1);  // ICMP: at once.
  ASSERT_TRUE(kamailio->Restart(KamailioConfig{}).ok());
  ASSERT_TRUE(WaitForState(e, HealthState::kHealthy));
}

TEST_F(SipProbingTest, RefusedTargetIsNeverSentAPacket) {
  auto kamailio = StartKamailio();
  StartTracker("192.0.2.0/24,sipresolver.test");  // Loopback needs a CIDR.
  const sip::Endpoint e = EndpointOf(*kamailio);
  absl::Status s = Touch(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("127.0.0.1"), std::string::npos) << s;
  // Refused before it was tracked: no state, so no probe is ever scheduled.
  EXPECT_FALSE(Status(e).has_value());
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
  EXPECT_EQ(kamailio->CountRequests("OPTIONS"), 0);
}

}  // namespace
}  // namespace sipresolver::testing
