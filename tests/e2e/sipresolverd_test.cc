// End to end: the real sipresolverd binary over a real gRPC socket, resolving
// through a real DNS server (dnsmasq), with reflection, health and metrics
// checked the way operators reach them.
#include <signal.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class SipresolverdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsZone zone;
    zone.hosts = {{"pbx1.test", {"127.0.0.11"}},
                  {"pbx2.test", {"127.0.0.12"}},
                  {"plain.test", {"127.0.0.21", "127.0.0.22"}}};
    zone.srv = {{"itsp.test", "pbx2.test", 5072, 20, 10},
                {"itsp.test", "pbx1.test", 5071, 10, 10}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    auto daemon = SipresolverdProcess::Start(dns_->address());
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  grpc::Status Resolve(const std::string& server, v1::ResolveResponse& response,
                       bool redundancy = true) {
    v1::ResolveRequest request;
    request.set_server(server);
    request.set_redundancy(redundancy);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return daemon_->stub().Resolve(&context, request, &response);
  }

  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
};

// R1-R3 through the whole service: SRV of the bare name, in priority order,
// with the SRV ports.
TEST_F(SipresolverdTest, ResolveReturnsSrvCandidatesInPriorityOrder) {
  v1::ResolveResponse response;
  grpc::Status status = Resolve("itsp.test", response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.candidates_size(), 2);
  EXPECT_EQ(response.candidates(0).address(), "127.0.0.11");
  EXPECT_EQ(response.candidates(0).port(), 5071u);
  EXPECT_EQ(response.candidates(0).priority(), 10u);
  EXPECT_EQ(response.candidates(0).source(), v1::CANDIDATE_SOURCE_SRV);
  EXPECT_EQ(response.candidates(1).address(), "127.0.0.12");
  EXPECT_GT(response.candidates(0).ttl_seconds(), 0u);
  ASSERT_GE(response.lookups_size(), 2);
  EXPECT_EQ(response.lookups(0).type(), v1::RECORD_TYPE_A);
  EXPECT_EQ(response.lookups(1).type(), v1::RECORD_TYPE_SRV);
}

TEST_F(SipresolverdTest, NotFoundSaysWhichLookupsWereTried) {
  v1::ResolveResponse response;
  grpc::Status status = Resolve("nothing.test", response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("SRV _sip._udp.nothing.test"),
            std::string::npos)
      << status.error_message();
}

TEST_F(SipresolverdTest, BadInputIsInvalidArgumentNamingTheField) {
  v1::ResolveResponse response;
  grpc::Status status = Resolve("not a name", response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("server:", 0), 0u)
      << status.error_message();
  status = Resolve("127.0.0.1", response, /*redundancy=*/true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A request over --max_request_bytes (64 KiB) is refused before it is
// parsed, and the server keeps serving.
TEST_F(SipresolverdTest, OversizedRequestIsResourceExhausted) {
  v1::ResolveResponse response;
  grpc::Status status = Resolve(std::string(70 * 1024, 'a'), response, false);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_TRUE(Resolve("itsp.test", response).ok());
}

TEST_F(SipresolverdTest, ReflectionListsTheService) {
  auto services = ReflectionListServices(daemon_->channel());
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(),
                      "sipresolver.v1.SipResolver"),
            services->end());
  EXPECT_NE(
      std::find(services->begin(), services->end(), "grpc.health.v1.Health"),
      services->end());
}

TEST_F(SipresolverdTest, HealthIsServingForServerAndService) {
  EXPECT_EQ(HealthCheck(daemon_->channel(), "").value_or(-1), 1);
  EXPECT_EQ(HealthCheck(daemon_->channel(), "sipresolver.v1.SipResolver")
                .value_or(-1),
            1);
  EXPECT_EQ(HealthCheck(daemon_->channel(), "no.such.Service").status().code(),
            absl::StatusCode::kNotFound);
}

// One version, from CMake's project(): --version, the build_info metric and
// the start-up log say the same.
TEST_F(SipresolverdTest, VersionFlagBuildInfoAndLogAgree) {
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--version"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.output, "sipresolverd " SIPRESOLVER_VERSION "\n");
  EXPECT_NE(daemon_->Metrics().find("sipresolver_build_info{version=\"" +
                                    std::string(SIPRESOLVER_VERSION) + "\"} 1"),
            std::string::npos);
  EXPECT_NE(daemon_->process().Output().find("version=" SIPRESOLVER_VERSION),
            std::string::npos);
}

TEST_F(SipresolverdTest, MetricsCountersMove) {
  const std::string ok_resolves =
      "sipresolver_rpcs_total{code=\"OK\",method=\"Resolve\"}";
  const std::string srv_answers =
      "sipresolver_dns_upstream_queries_total{outcome=\"answer\",type=\"SRV\"}";
  const std::string srv_hits =
      "sipresolver_dns_cache_lookups_total{result=\"hit\",type=\"SRV\"}";
  // Every Resolve resolves (no snapshot): the second one looks at the cache.
  auto daemon =
      SipresolverdProcess::Start(dns_->address(), {"--resolve_snapshot_age=0"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon_ = *std::move(daemon);
  std::string before = daemon_->Metrics();
  ASSERT_NE(before.find("sipresolver_serving 1"), std::string::npos) << before;
  // --max_streams' default, for the stream-limit alert.
  EXPECT_EQ(MetricValue(before, "sipresolver_decision_streams_limit"), 20000);
  v1::ResolveResponse response;
  ASSERT_TRUE(Resolve("itsp.test", response).ok());
  ASSERT_TRUE(Resolve("itsp.test", response).ok());
  std::string after = daemon_->Metrics();
  EXPECT_EQ(MetricValue(after, ok_resolves) - MetricValue(before, ok_resolves),
            2);
  EXPECT_EQ(MetricValue(after, srv_answers), 1);  // Second time: the cache.
  EXPECT_EQ(MetricValue(after, srv_hits), 1);
  EXPECT_NE(after.find("sipresolver_resolve_duration_seconds_count 2"),
            std::string::npos);
}

// A repeated question within --resolve_snapshot_age is answered from the
// snapshot the first one left: counted as a Resolve, no DNS lookup at all.
TEST_F(SipresolverdTest, RepeatedResolveIsAnsweredFromItsSnapshot) {
  auto daemon = SipresolverdProcess::Start(dns_->address(),
                                           {"--resolve_snapshot_age=10s"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon_ = *std::move(daemon);
  v1::ResolveResponse first, second;
  ASSERT_TRUE(Resolve("itsp.test", first).ok());
  const std::string before = daemon_->Metrics();
  ASSERT_TRUE(Resolve("itsp.test", second).ok());
  const std::string after = daemon_->Metrics();
  EXPECT_EQ(second.DebugString(), first.DebugString());
  const std::string ok_resolves =
      "sipresolver_rpcs_total{code=\"OK\",method=\"Resolve\"}";
  EXPECT_EQ(MetricValue(after, ok_resolves) - MetricValue(before, ok_resolves),
            1);
  for (const char* result : {"hit", "miss", "stale"}) {
    const std::string lookups =
        absl::StrCat("sipresolver_dns_cache_lookups_total{result=\"", result,
                     "\",type=\"SRV\"}");
    EXPECT_EQ(MetricValue(after, lookups), MetricValue(before, lookups))
        << lookups;
  }
  // Another question is not answered from it.
  v1::ResolveResponse plain;
  ASSERT_TRUE(Resolve("plain.test", plain).ok());
  EXPECT_EQ(plain.candidates(0).address(), "127.0.0.21");
}

// Without --probe_allow nothing is probed: a watch of the servers is
// refused naming the flag, a Resolve shows no health, nothing is listed.
TEST_F(SipresolverdTest, NothingIsProbedWithoutAnAllowlist) {
  DecisionWatcher watcher(daemon_->stub(), WatchRequest("agent", "itsp.test"));
  std::optional<grpc::Status> end = watcher.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(end->error_message().find("--probe_allow"), std::string::npos);
  v1::ResolveResponse resolved;
  ASSERT_TRUE(Resolve("itsp.test", resolved).ok());
  EXPECT_FALSE(resolved.candidates(0).has_health());
  grpc::ClientContext context;
  v1::ListServersResponse servers;
  ASSERT_TRUE(daemon_->stub()
                  .ListServers(&context, v1::ListServersRequest(), &servers)
                  .ok());
  EXPECT_EQ(servers.servers_size(), 0);
}

TEST_F(SipresolverdTest, SigtermDrainsAndExitsCleanly) {
  daemon_->process().Signal(SIGTERM);
  EXPECT_EQ(daemon_->process().Wait(absl::Seconds(15)), 0);
  const std::string log = daemon_->process().Output();
  EXPECT_NE(log.find("health NOT_SERVING"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
}

TEST_F(SipresolverdTest, RejectsBadFlagsAsUsageErrors) {
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--dns_tries=0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--dns_tries"), std::string::npos) << r.output;
  r = RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                  "--metrics_listen=127.0.0.1:0",
                  "--dns_servers=not-an-address"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("dns_servers"), std::string::npos) << r.output;
  // Fail static and cache bounds: refused, never silently raised.
  for (const std::string flag :
       {"--cache_max_entries=0", "--device_evidence_quorum=1",
        "--device_evidence_window=0s", "--probe_panic_threshold=101",
        "--probe_panic_min_domains=1"}) {
    r = RunCommand({SIPRESOLVERD_PATH, flag});
    EXPECT_EQ(r.exit_status, 2) << flag;
    EXPECT_NE(r.output.find(flag.substr(0, flag.find('='))), std::string::npos)
        << r.output;
  }
}

// A port already taken (here by the fixture's daemon) fails the start with
// the reason, and shuts down quietly: no queue is shut down before a
// server that never started.
TEST_F(SipresolverdTest, AListenPortInUseFailsTheStartNamingIt) {
  const std::string listen = daemon_->grpc_address();
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--listen=" + listen,
                                "--metrics_listen=127.0.0.1:0"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_NE(r.output.find("listen: cannot serve gRPC on " + listen),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("CompletionQueue"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
