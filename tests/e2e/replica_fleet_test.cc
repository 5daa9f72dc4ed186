// End to end: sipresolverd replicas pointed at one real etcd
// (--etcd_endpoints) find each other, one that stops leaves at once, and a
// replica keeps serving while etcd is gone and rejoins when it is back; the
// operator sees it in /metrics. Bad etcd flags fail the start naming them.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

using ::testing::HasSubstr;

double Metric(const SipresolverdProcess& daemon, const std::string& sample) {
  return MetricValue(daemon.Metrics(), sample);
}

class ReplicaFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsZone zone;
    zone.hosts = {{"pbx.test", {"127.0.0.11"}}};
    auto dns = DnsmasqServer::Start(zone);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
    auto etcd = EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }

  std::unique_ptr<SipresolverdProcess> StartReplica(const std::string& id) {
    auto daemon = SipresolverdProcess::Start(
        dns_->address(), {"--etcd_endpoints=" + etcd_->endpoints(),
                          "--replica_id=" + id, "--etcd_lease_ttl=2s"});
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    return daemon.ok() ? *std::move(daemon) : nullptr;
  }

  bool Resolves(SipresolverdProcess& daemon) {
    v1::ResolveRequest request;
    request.set_server("pbx.test");
    v1::ResolveResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return daemon.stub().Resolve(&context, request, &response).ok() &&
           response.candidates_size() == 1;
  }

  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(ReplicaFleetTest, ReplicasFindEachOtherAndOneThatStopsLeaves) {
  std::unique_ptr<SipresolverdProcess> a = StartReplica("replica-a");
  std::unique_ptr<SipresolverdProcess> b = StartReplica("replica-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (SipresolverdProcess* r : {a.get(), b.get()}) {
    EXPECT_TRUE(Eventually([&] {
      return Metric(*r, "sipresolver_fleet_replicas") == 2 &&
             Metric(*r, "sipresolver_etcd_session_active") == 1;
    })) << r->Metrics();
  }
  EXPECT_TRUE(
      a->process().WaitForOutput("live=replica-a,replica-b", absl::Seconds(10)))
      << a->process().Output();

  // SIGTERM: b revokes its lease on the way out, so a sees it leave without
  // waiting for the TTL (not timed: the TTL would end it too).
  b->process().Signal(SIGTERM);
  EXPECT_TRUE(b->process().Wait(absl::Seconds(30)).has_value());
  EXPECT_TRUE(Eventually([&] {
    return Metric(*a, "sipresolver_fleet_replicas") == 1;
  })) << a->Metrics();
  EXPECT_TRUE(Resolves(*a));
}

TEST_F(ReplicaFleetTest, ServesWhileEtcdIsGoneAndRejoinsWhenItIsBack) {
  std::unique_ptr<SipresolverdProcess> a = StartReplica("replica-a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(Eventually([&] {
    return Metric(*a, "sipresolver_etcd_session_active") == 1;
  })) << a->Metrics();

  etcd_->Kill();
  EXPECT_TRUE(Eventually([&] {
    return a->Metrics().find("sipresolver_etcd_session_active 0") !=
           std::string::npos;
  })) << a->Metrics();
  EXPECT_TRUE(
      a->process().WaitForOutput("etcd session inactive", absl::Seconds(10)));
  EXPECT_TRUE(Resolves(*a));

  ASSERT_TRUE(etcd_->Restart().ok());
  EXPECT_TRUE(Eventually(
      [&] { return Metric(*a, "sipresolver_etcd_session_active") == 1; },
      absl::Seconds(60)))
      << a->process().Output();
  EXPECT_EQ(Metric(*a, "sipresolver_fleet_replicas"), 1);
}

// --etcd_tls_*: mutual TLS to an etcd that demands client certificates. A
// replica with the fleet's certificate holds its session; one without a
// client certificate is refused and says so.
TEST_F(ReplicaFleetTest, MutualTlsToEtcd) {
  auto pki = TestPki::Create();
  ASSERT_TRUE(pki.ok()) << pki.status();
  auto server = (*pki)->Issue("etcd", {"IP:127.0.0.1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client =
      (*pki)->Issue("replica", {"DNS:replica"}, TestPki::Usage::kClient);
  ASSERT_TRUE(client.ok()) << client.status();
  etcd_.reset();
  auto etcd = EtcdServer::Start(
      1, EtcdTlsFiles{server->cert_file, server->key_file, (*pki)->ca_file()});
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  etcd_ = *std::move(etcd);

  const std::string endpoints = "--etcd_endpoints=" + etcd_->endpoints();
  const std::string ca = "--etcd_tls_ca_file=" + (*pki)->ca_file();
  auto a = SipresolverdProcess::Start(
      dns_->address(), {endpoints, "--replica_id=replica-a", ca,
                        "--etcd_tls_cert_file=" + client->cert_file,
                        "--etcd_tls_key_file=" + client->key_file});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Eventually([&] {
    return Metric(**a, "sipresolver_etcd_session_active") == 1;
  })) << (*a)->process().Output();
  EXPECT_TRUE((*a)->process().WaitForOutput("etcd_tls=on", absl::Seconds(5)));

  auto b = SipresolverdProcess::Start(
      dns_->address(), {endpoints, "--replica_id=replica-b", ca});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(
      (*b)->process().WaitForOutput("etcd session inactive", absl::Seconds(30)))
      << (*b)->process().Output();
  EXPECT_EQ(Metric(**b, "sipresolver_etcd_session_active"), 0);
  EXPECT_EQ(Metric(**a, "sipresolver_fleet_replicas"), 1);
}

TEST_F(ReplicaFleetTest, WithoutEtcdTheFleetMetricsAreAbsent) {
  auto daemon = SipresolverdProcess::Start(dns_->address());
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const std::string page = (*daemon)->Metrics();
  EXPECT_THAT(page, HasSubstr("sipresolver_serving 1"));
  EXPECT_THAT(page,
              ::testing::Not(HasSubstr("sipresolver_etcd_session_active ")));
  EXPECT_THAT(page, ::testing::Not(HasSubstr("sipresolver_fleet_replicas ")));
}

TEST_F(ReplicaFleetTest, BadEtcdFlagsFailTheStartNamingTheFlag) {
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  };
  const std::string etcd = "--etcd_endpoints=" + etcd_->endpoints();
  for (const Case& c : std::vector<Case>{
           {{etcd, "--etcd_prefix=/sipresolver"}, "--etcd_prefix"},
           {{etcd, "--replica_id=a/b"}, "--replica_id"},
           {{etcd, "--etcd_lease_ttl=0s"}, "--etcd_lease_ttl"},
           {{etcd, "--probe_owners=0"}, "--probe_owners"},
           {{"--etcd_endpoints=127.0.0.1:2379,etcd.example:2379"},
            "etcd_endpoints"},
           {{etcd, "--etcd_tls_cert_file=/nonexistent.pem"},
            "etcd_tls_cert_file and etcd_tls_key_file"},
           {{etcd, "--etcd_tls_ca_file=/nonexistent.pem"},
            "etcd_tls_ca_file"}}) {
    std::vector<std::string> argv = {SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                                     "--metrics_listen=127.0.0.1:0"};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.says));
  }
}

}  // namespace
}  // namespace sipresolver::testing
