// `sipresolver watch` against the real sipresolverd and Kamailio: what a
// device integrator scripts around.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

class CliWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kamailio = KamailioServer::Start();
    ASSERT_TRUE(kamailio.ok()) << kamailio.status();
    pbx_ = *std::move(kamailio);
    DnsZone zone;
    zone.hosts = {{"pbx.test", {"127.0.0.1"}}};
    zone.srv = {{"itsp.test", "pbx.test", pbx_->port(), 10, 10}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    auto daemon = SipresolverdProcess::Start(
        dns_->address(), {"--probe_allow=127.0.0.1/32", "--probe_interval=200ms",
                          "--probe_edge_interval=100ms", "--probe_timeout=300ms"});
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    dir_ = "/tmp/sipresolver-watch-" + std::to_string(getpid());
    mkdir(dir_.c_str(), 0700);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  CommandResult Watch(std::vector<std::string> args) {
    args.insert(args.begin(), {SIPRESOLVER_CLI_PATH, "--server=" + daemon_->grpc_address(),
                               "watch"});
    return RunCommand(args, absl::Seconds(20));
  }

  std::unique_ptr<KamailioServer> pbx_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
  std::string dir_;
};

TEST_F(CliWatchTest, AppliesTheDecisionToFileHookAndOutput) {
  const std::string file = dir_ + "/decision.json", hooked = dir_ + "/hooked";
  CommandResult r = Watch({"--profile={\"proxy_server\":\"itsp.test\",\"proxy_server_redundancy\":true}",
                           "--agent_id=device-1", "--once", "--output_file=" + file,
                           "--hook=echo \"$SIPRESOLVER_STATE $SIPRESOLVER_PRIMARY\" >> " + hooked});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const std::string primary = "127.0.0.1:" + std::to_string(pbx_->port());
  EXPECT_NE(r.output.find("active: primary " + primary), std::string::npos) << r.output;
  EXPECT_NE(ReadFile(file).find("\"state\":\"DECISION_STATE_ACTIVE\""), std::string::npos)
      << ReadFile(file);
  EXPECT_NE(ReadFile(hooked).find("active " + primary), std::string::npos) << ReadFile(hooked);
}

TEST_F(CliWatchTest, ProfileFromAFileAndJsonOutput) {
  const std::string profile = dir_ + "/profile.json";
  std::ofstream(profile) << R"({"proxy_server": "itsp.test"})";
  CommandResult r = Watch({"--profile=@" + profile, "--once", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("\"primary\":{"), std::string::npos) << r.output;
}

TEST_F(CliWatchTest, RunsUntilInterruptedThenExitsCleanly) {
  auto watch = Subprocess::Start({SIPRESOLVER_CLI_PATH, "--server=" + daemon_->grpc_address(),
                                  "watch", "--profile={\"proxy_server\":\"itsp.test\"}"});
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*watch)->WaitForOutput("active: primary", absl::Seconds(10)))
      << (*watch)->Output();
  (*watch)->Signal(SIGINT);
  EXPECT_EQ((*watch)->Wait(absl::Seconds(10)), 0);
}

TEST_F(CliWatchTest, UsageErrors) {
  EXPECT_EQ(Watch({}).exit_status, 2);
  EXPECT_EQ(Watch({"--profile={not json"}).exit_status, 2);
  EXPECT_EQ(Watch({"--profile={\"proxy_server\":\"x.test\"}", "--spread=random"}).exit_status, 2);
}

TEST_F(CliWatchTest, InvalidProfileIsAnRpcError) {
  CommandResult r = Watch({"--profile={\"proxy_server\":\"bad name\"}"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("INVALID_ARGUMENT"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
