// The `sipresolver` CLI against the real sipresolverd and a real DNS server:
// what a user types and sees, and the exit statuses scripts rely on.
#include <csignal>

#include "gtest/gtest.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsZone zone;
    zone.hosts = {{"pbx1.test", {"127.0.0.11"}},
                  {"plain.test", {"127.0.0.21"}}};
    zone.srv = {{"_sip._udp.itsp.test", "pbx1.test", 5071, 10, 10}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    auto daemon = SipresolverdProcess::Start(dns_->address());
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(),
                {SIPRESOLVER_CLI_PATH, "--server=" + daemon_->grpc_address()});
    return RunCommand(args);
  }

  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
};

TEST_F(CliTest, ResolvePrintsCandidatesAndLookups) {
  CommandResult r = Cli({"resolve", "itsp.test", "--redundancy"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("127.0.0.11"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("5071"), std::string::npos);
  EXPECT_NE(r.output.find("_sip._udp"), std::string::npos);
  EXPECT_NE(r.output.find("Lookups"), std::string::npos);
}

TEST_F(CliTest, JsonOutputUsesApiFieldNames) {
  CommandResult r = Cli({"resolve", "plain.test", "--port=5090", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("\"address\":\"127.0.0.21\""), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"port\":5090"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"source\":\"CANDIDATE_SOURCE_A\""),
            std::string::npos);
}

TEST_F(CliTest, NotFoundExitsOneWithTheCode) {
  CommandResult r = Cli({"resolve", "nothing.test"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("sipresolver: NOT_FOUND:"), std::string::npos)
      << r.output;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({"resolve"}).exit_status, 2);
  EXPECT_EQ(
      Cli({"resolve", "x.test", "--transport=carrier-pigeon"}).exit_status, 2);
  EXPECT_EQ(Cli({"frobnicate"}).exit_status, 2);
}

TEST_F(CliTest, UnreadableTlsFileIsAUsageErrorNamingTheFlag) {
  CommandResult r =
      Cli({"--tls_ca_file=/nonexistent/ca.pem", "resolve", "plain.test"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--tls_ca_file: cannot read /nonexistent/ca.pem"),
            std::string::npos)
      << r.output;
  r = Cli({"--tls_cert_file=/nonexistent/c.pem", "resolve", "plain.test"});
  EXPECT_EQ(r.exit_status, 2);  // Without its key.
  r = Cli({"--tls_ca_file=/nonexistent/ca.pem", "--tls_reload_interval=500ms",
           "resolve", "plain.test"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("bad --tls_reload_interval: below 1s"),
            std::string::npos)
      << r.output;
}

// A hook must get some time: --hook_timeout of 0 or less is a usage error
// that names the flag, before anything is started.
TEST_F(CliTest, HookTimeoutNotAboveZeroIsAUsageErrorNamingTheFlag) {
  for (const char* timeout : {"--hook_timeout=0s", "--hook_timeout=-1s"}) {
    CommandResult r =
        Cli({"watch", "--profile={\"proxy_server\":\"itsp.test\"}",
             "--hook=true", timeout});
    EXPECT_EQ(r.exit_status, 2) << timeout << "\n" << r.output;
    EXPECT_NE(r.output.find("bad --hook_timeout: must be positive"),
              std::string::npos)
        << r.output;
  }
}

TEST_F(CliTest, UnreachableServerExitsOne) {
  CommandResult r = RunCommand({SIPRESOLVER_CLI_PATH, "--server=127.0.0.1:1",
                                "--timeout=2s", "resolve", "plain.test"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("UNAVAILABLE"), std::string::npos) << r.output;
}

// The CLI's channel is the one deploy/README.md tells agents to use: round
// robin over every address, and with --client_health_check a replica
// draining after SIGTERM (NOT_SERVING, still answering) gets no calls. With
// gRPC's default pick_first the first address, the draining one, would
// serve them all.
TEST_F(CliTest, ClientHealthCheckSkipsADrainingReplica) {
  auto draining = SipresolverdProcess::Start(dns_->address(),
                                             {"--shutdown_drain_delay=60s"});
  ASSERT_TRUE(draining.ok()) << draining.status();
  (*draining)->process().Signal(SIGTERM);
  ASSERT_TRUE(
      (*draining)->process().WaitForOutput("shutting down", absl::Seconds(10)));
  const std::string both =
      absl::StrCat("--server=ipv4:127.0.0.1:", (*draining)->grpc_port(),
                   ",127.0.0.1:", daemon_->grpc_port());
  for (int i = 0; i < 4; ++i) {
    CommandResult r =
        RunCommand({SIPRESOLVER_CLI_PATH, both, "--client_health_check",
                    "resolve", "plain.test"});
    ASSERT_EQ(r.exit_status, 0) << r.output;
  }
  EXPECT_EQ(
      MetricValue(daemon_->Metrics(),
                  "sipresolver_rpcs_total{code=\"OK\",method=\"Resolve\"}"),
      4);
  (*draining)->Kill();
}

}  // namespace
}  // namespace sipresolver::testing
