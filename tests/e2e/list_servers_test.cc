// End to end: sipresolverd probes the servers a watcher needs (real
// Kamailio registrars found through a real DNS server) and ListServers shows
// their live health, as an operator sees it with grpcurl; Resolve shows the
// health the service has and never starts probing.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/loopback.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/scoped_fd.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class ListServersTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAll({}); }

  void StartAll(std::vector<std::string> extra_flags) {
    RegistrarStackOptions options;
    options.registrars = 2;  // SRV priorities 10 and 20.
    options.srv_target = "pbx1.test";
    options.extra_flags = std::move(extra_flags);
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    primary_ = &stack_->registrar(0);
    secondary_ = &stack_->registrar(1);
    daemon_ = &stack_->daemon();
  }

  v1::ResolveResponse Resolve() {
    v1::ResolveRequest request;
    request.set_server("itsp.test");
    request.set_redundancy(true);
    v1::ResolveResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(daemon_->stub().Resolve(&context, request, &response).ok());
    return response;
  }

  // An agent watching itsp.test: its servers are probed from now on.
  void Watch() {
    watcher_ = std::make_unique<DecisionWatcher>(
        daemon_->stub(), WatchRequest("list-servers-test", "itsp.test"));
  }

  v1::ListServersResponse List() {
    grpc::ClientContext context;
    v1::ListServersResponse response;
    EXPECT_TRUE(daemon_->stub().ListServers(&context, {}, &response).ok());
    return response;
  }

  // Health state of the endpoint on `port`, as ListServers reports it.
  v1::HealthState StateOf(uint16_t port) {
    const v1::ListServersResponse list = List();
    for (const auto& s : list.servers()) {
      if (s.endpoint().port() == port) return s.health().state();
    }
    return v1::HEALTH_STATE_UNSPECIFIED;
  }

  bool WaitForState(uint16_t port, v1::HealthState state) {
    return Eventually([&] { return StateOf(port) == state; });
  }

  std::unique_ptr<RegistrarStack> stack_;
  // Owned by stack_.
  KamailioServer *primary_ = nullptr, *secondary_ = nullptr;
  SipresolverdProcess* daemon_ = nullptr;
  std::unique_ptr<DecisionWatcher> watcher_;
};

TEST_F(ListServersTest, S6_ShowsLiveHealthOfWatchedServers) {
  EXPECT_EQ(List().servers_size(), 0);  // Nothing watched, nothing probed.
  Resolve();
  EXPECT_EQ(List().servers_size(), 0);  // Resolve never starts probing.
  Watch();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  ASSERT_TRUE(WaitForState(secondary_->port(), v1::HEALTH_STATE_HEALTHY));

  v1::ListServersResponse list = List();
  ASSERT_EQ(list.servers_size(), 2);
  const v1::ServerStatus& s = list.servers(0);
  EXPECT_EQ(s.endpoint().address(), "127.0.0.1");
  EXPECT_EQ(s.endpoint().transport(), v1::TRANSPORT_UDP);
  ASSERT_EQ(s.domains_size(), 1);
  EXPECT_EQ(s.domains(0), "itsp.test");
  EXPECT_EQ(s.health().last_response_code(), 401u);  // Challenge: working.
  EXPECT_EQ(s.health().via_received(), "127.0.0.1");
  EXPECT_GT(s.health().last_change().seconds(), 1700000000);  // Wall clock.

  // A Resolve carries the health it knows, at most --resolve_snapshot_age
  // (250 ms) old: the first one's answer may be repeated until then.
  v1::ResolveResponse resolved;
  EXPECT_TRUE(Eventually([&] {
    resolved = Resolve();
    return resolved.candidates_size() == 2 &&
           resolved.candidates(0).health().state() == v1::HEALTH_STATE_HEALTHY;
  }));
}

TEST_F(ListServersTest, S6_StoppedRegistrarTurnsUnhealthyAndBack) {
  Watch();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  primary_->Pause();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_UNHEALTHY));
  EXPECT_EQ(StateOf(secondary_->port()), v1::HEALTH_STATE_HEALTHY);
  primary_->Resume();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));

  const std::string metrics = daemon_->Metrics();
  EXPECT_GT(
      MetricValue(
          metrics,
          "sipresolver_probes_total{method=\"REGISTER\",outcome=\"timeout\"}"),
      0);
  EXPECT_GT(
      MetricValue(
          metrics,
          "sipresolver_probes_total{method=\"REGISTER\",outcome=\"success\"}"),
      0);
  EXPECT_GE(MetricValue(metrics,
                        "sipresolver_endpoint_transitions_total{from="
                        "\"healthy\",to=\"unhealthy\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics, "sipresolver_endpoints{state=\"healthy\"}"),
            2);
}

// One client resolving dead literals on many ports (all inside
// --probe_allow): Resolve never starts a probe, so nothing is sent to them,
// the endpoint caps stay free for watchers, and the panic ratio counts what
// agents need, never what one client asked about.
class ResolveFloodTest : public ListServersTest {
 protected:
  void SetUp() override { StartAll({"--probe_max_endpoints=3"}); }
};

TEST_F(ResolveFloodTest, DeadLiteralsOnManyPortsAreNeverProbed) {
  ScopedFd listener(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  const uint16_t listening = BindLoopback(listener.get(), 0);
  ASSERT_NE(listening, 0);
  for (int i = 0; i < 40; ++i) {
    v1::ResolveRequest request;
    request.set_server("127.0.0.1");
    request.set_port(i == 0 ? listening : 20000 + i);
    v1::ResolveResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(daemon_->stub().Resolve(&context, request, &response).ok());
  }
  Watch();  // Would be RESOURCE_EXHAUSTED had the flood taken the caps.
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  ASSERT_TRUE(WaitForState(secondary_->port(), v1::HEALTH_STATE_HEALTHY));
  const v1::ListServersResponse list = List();
  EXPECT_EQ(list.servers_size(), 2);
  EXPECT_FALSE(list.probe_path_suspect());
  EXPECT_EQ(list.probe_healthy_ratio(), 1);
  char datagram[1500];
  EXPECT_LT(recv(listener.get(), datagram, sizeof datagram, 0), 0)
      << "a Resolve made the service probe 127.0.0.1:" << listening;
  EXPECT_EQ(MetricValue(daemon_->Metrics(),
                        "sipresolver_probe_targets_refused_total{code="
                        "\"RESOURCE_EXHAUSTED\"}"),
            0);
}

// Writes `text` to a fresh file and returns its path.
std::string WriteTempFile(const std::string& text) {
  char path[] = "/tmp/sipresolver-credentials-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fd);
  return path;
}

class ListServersWithCredentialsTest : public ListServersTest {
 protected:
  void SetUp() override {
    credentials_ = WriteTempFile("# test\nitsp.test alice secret\n");
    StartAll({"--probe_credentials_file=" + credentials_});
  }
  void TearDown() override { unlink(credentials_.c_str()); }
  std::string credentials_;
};

// With credentials only a completed registration counts, and the password
// appears nowhere in the service's output.
TEST_F(ListServersWithCredentialsTest,
       S6_RegistersForRealAndNeverLogsThePassword) {
  Watch();
  ASSERT_TRUE(WaitForState(primary_->port(), v1::HEALTH_STATE_HEALTHY));
  const v1::ListServersResponse list = List();
  ASSERT_GT(list.servers_size(), 0);
  EXPECT_EQ(list.servers(0).health().last_response_code(), 200u);
  EXPECT_NE(daemon_->process().Output().find("credential_domains=1"),
            std::string::npos);
  EXPECT_EQ(daemon_->process().Output().find("secret"), std::string::npos);
  EXPECT_EQ(daemon_->Metrics().find("secret"), std::string::npos);
}

// A rotated Secret: the file is replaced while the service runs, and the
// probes use the new password without a restart.
class ProbeCredentialsReloadTest : public ListServersTest {
 protected:
  void SetUp() override {
    credentials_ = WriteTempFile("itsp.test alice wrong\n");
    StartAll({"--probe_credentials_file=" + credentials_,
              "--tls_reload_interval=1s"});
  }
  void TearDown() override { unlink(credentials_.c_str()); }

  // The last response code of the probes of the endpoint on `port`.
  uint32_t CodeOf(uint16_t port) {
    const v1::ListServersResponse list = List();
    for (const auto& s : list.servers()) {
      if (s.endpoint().port() == port) return s.health().last_response_code();
    }
    return 0;
  }

  std::string credentials_;
};

TEST_F(ProbeCredentialsReloadTest, RotatedPasswordIsUsedWithoutARestart) {
  Watch();
  const uint16_t port = primary_->port();
  // The registrar challenges a wrong password again.
  ASSERT_TRUE(Eventually([&] { return CodeOf(port) == 401u; }))
      << "last code " << CodeOf(port);
  EXPECT_NE(StateOf(port), v1::HEALTH_STATE_HEALTHY);

  const std::string next = credentials_ + ".next";
  std::ofstream(next) << "itsp.test alice secret\n";
  ASSERT_EQ(std::rename(next.c_str(), credentials_.c_str()), 0);
  EXPECT_TRUE(WaitForState(port, v1::HEALTH_STATE_HEALTHY));
  EXPECT_EQ(CodeOf(port), 200u);
  const std::string output = daemon_->process().Output();
  EXPECT_NE(output.find("probe credentials reloaded credential_domains=1"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("secret"), std::string::npos);
}

TEST(ProbeFlagsTest, BadCredentialsFileIsAUsageErrorThatHidesItsContent) {
  // A bad domain name; the password after it must not be echoed.
  const std::string path = WriteTempFile("itsp..test alice hunter2\n");
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                                "--metrics_listen=127.0.0.1:0",
                                "--probe_credentials_file=" + path});
  unlink(path.c_str());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("line 1"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos) << r.output;
}

TEST(ProbeFlagsTest, BadAllowlistIsAUsageError) {
  CommandResult r =
      RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                  "--metrics_listen=127.0.0.1:0", "--probe_allow=10.0.0.0/33"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("probe_allow"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
