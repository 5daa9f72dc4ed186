// SIP probes over TLS against a real Kamailio (tls module) on loopback: the
// handshake, the server's certificate checked against the trust anchors and
// the probe's domain, and the transaction on top.
#include <future>

#include "gtest/gtest.h"
#include "lib/core/event_loop.h"
#include "lib/sip/sip_prober.h"
#include "tests/support/kamailio_server.h"

namespace sipresolver::testing {
namespace {

using sip::ProbeResult;

constexpr char kDomain[] = "sipresolver.test";

class SipTlsProbingTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_.Start(); }
  void TearDown() override { loop_.Stop(); }

  std::unique_ptr<KamailioServer> StartKamailio(bool self_signed = false) {
    KamailioConfig config;
    config.tls = true;
    config.tls_server_name = kDomain;
    config.tls_self_signed = self_signed;
    auto server = KamailioServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // Probes `kamailio` over TLS for `domain` with a prober made for the call.
  // The timeout is generous (a TLS handshake under ASan on a busy machine
  // takes long) except where the timeout is what a test is about.
  ProbeResult Probe(const KamailioServer& kamailio, sip::ProberOptions options,
                    const std::string& domain = kDomain,
                    std::optional<sip::Credentials> credentials = {},
                    absl::Duration timeout = absl::Seconds(5)) {
    options.t1 = absl::Milliseconds(50);
    options.timeout = timeout;
    sip::ProbeRequest request;
    request.endpoint = {"127.0.0.1", kamailio.tls_port(), Transport::kTls};
    request.domain = domain;
    request.credentials = std::move(credentials);
    std::unique_ptr<sip::SipProber> prober;
    std::promise<ProbeResult> done;
    loop_.Post([&] {
      prober = std::make_unique<sip::SipProber>(loop_.io_context(), loop_,
                                                clock_, random_, options);
      prober->Probe(request,
                    [&](ProbeResult r) { done.set_value(std::move(r)); });
    });
    auto future = done.get_future();
    if (future.wait_for(std::chrono::seconds(30)) !=
        std::future_status::ready) {
      ADD_FAILURE() << "probe did not complete";
      std::abort();  // The loop still references `done`: cannot go on.
    }
    loop_.RunSync([&] { prober.reset(); });
    return future.get();
  }

  static sip::ProberOptions TrustingCaOf(const KamailioServer& kamailio) {
    sip::ProberOptions options;
    options.tls_ca_file = kamailio.ca_file();
    return options;
  }

  EventLoop loop_;
  RealClock clock_;
  RealRandom random_;
};

TEST_F(SipTlsProbingTest, TrustedCertificateReachesTheRegistrarsChallenge) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(*kamailio, TrustingCaOf(*kamailio));
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kResponse) << r.error;
  EXPECT_EQ(r.status_code, 401);
  std::vector<SipRequestRecord> requests = kamailio->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].transport, "tls");
  EXPECT_NE(kamailio->ReadLog().find("TLS SNI sipresolver.test"),
            std::string::npos);
}

TEST_F(SipTlsProbingTest, RightCredentialsCompleteARegistration) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(*kamailio, TrustingCaOf(*kamailio), kDomain,
                        sip::Credentials{"alice", "secret"});
  EXPECT_EQ(r.status_code, 200) << r.error;
  EXPECT_TRUE(r.authenticated);
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 2);  // On one connection.
}

// The test CA is in no system store: nothing is sent to the server.
TEST_F(SipTlsProbingTest, SystemStoreAloneRejectsTheTestCa) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(*kamailio, sip::ProberOptions{});
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_EQ(r.error,
            absl::StrCat("TLS handshake with 127.0.0.1:", kamailio->tls_port(),
                         " failed: certificate verify failed (unable to get "
                         "local issuer certificate)"));
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
}

TEST_F(SipTlsProbingTest, AnotherCaIsRejected) {
  auto kamailio = StartKamailio();
  auto other = StartKamailio();  // Its own test CA.
  ProbeResult r = Probe(*kamailio, TrustingCaOf(*other));
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_NE(r.error.find("certificate verify failed"), std::string::npos)
      << r.error;
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
}

TEST_F(SipTlsProbingTest, UntrustedSelfSignedCertificateIsRejected) {
  auto kamailio = StartKamailio(/*self_signed=*/true);
  ProbeResult r = Probe(*kamailio, sip::ProberOptions{});
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_EQ(r.error,
            absl::StrCat("TLS handshake with 127.0.0.1:", kamailio->tls_port(),
                         " failed: certificate verify failed (self-signed "
                         "certificate)"));
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
}

// A trusted certificate for another name: SNI and the name check both use
// the probe's domain.
TEST_F(SipTlsProbingTest, CertificateForAnotherNameIsRejected) {
  auto kamailio = StartKamailio();
  ProbeResult r = Probe(*kamailio, TrustingCaOf(*kamailio), "other.test");
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_NE(r.error.find("certificate verify failed (hostname mismatch)"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
}

TEST_F(SipTlsProbingTest, UnverifiedProbeAcceptsASelfSignedCertificate) {
  auto kamailio = StartKamailio(/*self_signed=*/true);
  sip::ProberOptions options;
  options.tls_verify = false;
  ProbeResult r = Probe(*kamailio, options, "any.name.example");
  EXPECT_EQ(r.status_code, 401) << r.error;
  EXPECT_NE(kamailio->ReadLog().find("TLS SNI any.name.example"),
            std::string::npos);
}

TEST_F(SipTlsProbingTest, MissingCaFileIsAnErrorNotASilentFallback) {
  auto kamailio = StartKamailio();
  sip::ProberOptions options;
  options.tls_ca_file = "/nonexistent/ca.pem";
  ProbeResult r = Probe(*kamailio, options);
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kNetworkError);
  EXPECT_NE(r.error.find("/nonexistent/ca.pem"), std::string::npos) << r.error;
  EXPECT_EQ(kamailio->CountRequests("REGISTER"), 0);
}

// The kernel completes the TCP connect for a stopped server; the handshake
// then never ends, and the probe timeout bounds it.
TEST_F(SipTlsProbingTest, PausedServerTimesOutDuringTheHandshake) {
  auto kamailio = StartKamailio();
  kamailio->Pause();
  const absl::Time start = absl::Now();
  ProbeResult r = Probe(*kamailio, TrustingCaOf(*kamailio), kDomain, {},
                        absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  kamailio->Resume();
  EXPECT_EQ(r.outcome, ProbeResult::Outcome::kTimeout) << r.error;
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(10));  // The timeout covers the handshake.
}

}  // namespace
}  // namespace sipresolver::testing
