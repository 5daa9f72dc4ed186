// End to end, fail static: real Kamailio registrars that drop every request
// carrying the service's probe User-Agent (an ITSP's fail2ban or pike banning
// the prober) but serve devices, a real DNS server and the real sipresolverd.
// The service must never leave agents worse off than their devices alone.
// Agents connect with mutual TLS, a certificate each from a test CA: device
// evidence counts clients by the identity their certificate proves (without
// TLS, by address: every loopback agent would be one client).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "lib/sip/message.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"
#include "tests/support/loopback.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

constexpr char kProbeUserAgent[] = "sipresolver-probe";

class FailStaticTest : public ::testing::Test {
 protected:
  void SetUp() override { StartStack(/*mutual_tls=*/true); }

  // `replicas` > 1: that many sipresolverd sharing through a real etcd,
  // with fail static's quorum raised to 3.
  void StartStack(bool mutual_tls, int replicas = 1) {
    mutual_tls_ = mutual_tls;
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    auto server = pki_->Issue("server", {"IP:127.0.0.1"});
    ASSERT_TRUE(server.ok()) << server.status();
    RegistrarStackOptions options;
    options.registrars = 2;  // SRV priorities 10 and 20.
    options.dns_ttl = 60;
    // A probe timeout (and RTO floor) no busy machine (sanitizers, stress)
    // mistakes for a ban: these tests are about verdicts, not detection
    // speed.
    options.probe_flags = {"--probe_allow=127.0.0.1/32",
                           "--probe_interval=200ms",
                           "--probe_edge_interval=100ms", "--probe_timeout=1s",
                           "--probe_min_rto=1s"};
    options.extra_flags = {"--device_evidence_quorum=2", "--search_break=1s",
                           "--heartbeat_interval=1s"};
    if (mutual_tls) {
      options.extra_flags.insert(options.extra_flags.end(),
                                 {"--tls_cert_file=" + server->cert_file,
                                  "--tls_key_file=" + server->key_file,
                                  "--tls_client_ca_file=" + pki_->ca_file(),
                                  "--operator_identities=operator"});
    }
    std::vector<std::string> shared_flags;
    if (replicas > 1) {
      auto etcd = EtcdServer::Start();
      ASSERT_TRUE(etcd.ok()) << etcd.status();
      etcd_ = *std::move(etcd);
      shared_flags = options.probe_flags;
      shared_flags.insert(shared_flags.end(), options.extra_flags.begin(),
                          options.extra_flags.end());
      for (const std::string& f : {"--etcd_endpoints=" + etcd_->endpoints(),
                                   std::string("--device_evidence_quorum=3")}) {
        shared_flags.push_back(f);
        options.extra_flags.push_back(f);
      }
      options.extra_flags.push_back("--replica_id=replica-0");
    }
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    replicas_.push_back(&stack_->daemon());
    for (int i = 1; i < replicas; ++i) {
      std::vector<std::string> flags = shared_flags;
      flags.push_back(absl::StrCat("--replica_id=replica-", i));
      auto daemon = SipresolverdProcess::Start(stack_->dns().address(), flags);
      ASSERT_TRUE(daemon.ok()) << daemon.status();
      more_.push_back(*std::move(daemon));
      replicas_.push_back(more_.back().get());
    }
    stub_ = NewConnection("agent-0");
    operator_ = NewConnection("operator");
  }

  KamailioServer& pbx(int i) { return stack_->registrar(i); }
  SipresolverdProcess& daemon() { return stack_->daemon(); }

  // Registrar i bans the prober (or, with `ban` false, no longer does) and
  // registers devices without authentication.
  void Ban(int i, bool ban = true) {
    KamailioConfig config;
    config.mode = KamailioConfig::kNoAuth;
    if (ban) config.drop_user_agent = kProbeUserAgent;
    ASSERT_TRUE(pbx(i).Restart(config).ok());
  }

  static v1::WatchDecisionRequest Request(
      const std::string& agent, const std::string& server = "itsp.test") {
    v1::WatchDecisionRequest r;
    r.set_agent_id(agent);
    r.mutable_profile()->set_proxy_server(server);
    r.mutable_profile()->set_proxy_server_redundancy(true);
    return r;
  }

  // A stub on a connection of its own, with mutual TLS a certificate for
  // `client` (DNS:client); without, the loopback address is the client.
  std::unique_ptr<v1::SipResolver::Stub> NewConnection(
      const std::string& client, int replica = 0) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    if (mutual_tls_) {
      const IssuedCertificate& cert = Certificate(client);
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ReadFile(pki_->ca_file());
      ssl.pem_cert_chain = ReadFile(cert.cert_file);
      ssl.pem_private_key = ReadFile(cert.key_file);
      credentials = grpc::SslCredentials(ssl);
    }
    return v1::SipResolver::NewStub(grpc::CreateCustomChannel(
        replicas_[replica]->grpc_address(), credentials, args));
  }

  // The client certificate for `client`, issued once.
  const IssuedCertificate& Certificate(const std::string& client) {
    auto it = certificates_.find(client);
    if (it == certificates_.end()) {
      auto cert =
          pki_->Issue(client, {"DNS:" + client}, TestPki::Usage::kClient);
      EXPECT_TRUE(cert.ok()) << cert.status();
      it = certificates_.emplace(client, cert.value_or(IssuedCertificate{}))
               .first;
    }
    return it->second;
  }

  // The CLI's flags to connect as `client`.
  std::vector<std::string> CliConnection(const std::string& client) {
    const IssuedCertificate& cert = Certificate(client);
    return {"--server=" + daemon().grpc_address(),
            "--tls_ca_file=" + pki_->ca_file(),
            "--tls_cert_file=" + cert.cert_file,
            "--tls_key_file=" + cert.key_file};
  }

  v1::SipResolver::Stub& stub() { return *stub_; }
  // ListServers is for operators (--operator_identities).
  v1::SipResolver::Stub& operator_stub() { return *operator_; }

  // What a device does: a real REGISTER (its own User-Agent) to registrar i;
  // true when it got 200 OK.
  bool DeviceRegisters(int i) {
    const std::string call_id =
        absl::StrCat("device-", i, "-", ++registrations_);
    return UdpProbe(
        pbx(i).port(),
        [&](uint16_t local_port) {
          sip::RequestParams p;
          p.method = "REGISTER";
          p.domain = "itsp.test";
          p.transport = "UDP";
          p.local_host = "127.0.0.1";
          p.local_port = local_port;
          p.user = "device";
          p.call_id = call_id;
          p.from_tag = "devtag";
          p.branch = absl::StrCat("z9hG4bK", call_id);
          p.expires = 60;
          p.user_agent = "Device/1.0";
          return *sip::BuildRequest(p);
        },
        [&](absl::string_view reply) {
          return absl::StartsWith(reply, "SIP/2.0 200") &&
                 absl::StrContains(reply, call_id);
        },
        kEventuallyTimeout);
  }

  // Agent `agent` reports on `stub` that it registered (200) or not (408)
  // with the registrars on `ports`, in one report (they are rate-limited
  // per connection).
  static void Report(v1::SipResolver::Stub& stub, const std::string& agent,
                     std::vector<uint16_t> ports, uint32_t code) {
    v1::ReportObservationRequest r;
    r.set_agent_id(agent);
    for (uint16_t port : ports) {
      v1::RegistrationOutcome& o = *r.add_registrations();
      o.mutable_server()->set_address("127.0.0.1");
      o.mutable_server()->set_port(port);
      o.set_status_code(code);
    }
    grpc::ClientContext context;
    v1::ReportObservationResponse response;
    ASSERT_TRUE(stub.ReportObservation(&context, r, &response).ok());
  }

  std::optional<v1::ServerStatus> Server(uint16_t port) {
    grpc::ClientContext context;
    v1::ListServersResponse response;
    if (!operator_stub().ListServers(&context, {}, &response).ok()) {
      return std::nullopt;
    }
    for (const v1::ServerStatus& s : response.servers()) {
      if (s.endpoint().port() == port) return s;
    }
    return std::nullopt;
  }

  static std::function<bool(const v1::Decision&)> Is(uint16_t port,
                                                     v1::Assurance a) {
    return [=](const v1::Decision& d) {
      return d.state() == v1::DECISION_STATE_ACTIVE &&
             d.primary().port() == port && d.assurance() == a;
    };
  }

  void ExpectOneClientCannotSteerOthers() {
    DecisionWatcher agent(stub(), Request("agent-0"));
    ASSERT_TRUE(agent.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_PROBES),
                              absl::Seconds(20)));
    pbx(0).Pause();  // Really dead.
    ASSERT_TRUE(agent.WaitFor(Is(pbx(1).port(), v1::ASSURANCE_PROBES),
                              absl::Seconds(20)));

    const size_t before = agent.Received().size();
    for (int i = 0; i < 3; ++i) {  // Three connections, three ids.
      auto sybil = NewConnection("sybil");
      Report(*sybil, absl::StrCat("sybil-", i), {pbx(0).port()}, 200);
    }
    auto liar = NewConnection("sybil");
    for (int i = 3; i < 8; ++i) {  // Within the per-client report rate.
      Report(*liar, absl::StrCat("sybil-", i), {pbx(0).port()}, 200);
    }

    auto server = Server(pbx(0).port());
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->health().device_successes(), 1u);
    EXPECT_EQ(server->health().decision_state(), v1::HEALTH_STATE_UNHEALTHY);
    // No decision since moves the agent back to the dead server. One the
    // reports caused was queued before ListServers answered, so it arrives
    // ahead of any heartbeat sent later: drop the heartbeats already here,
    // then take two (one may have been in flight).
    auto heartbeat = [](const v1::Decision& d) { return d.heartbeat(); };
    while (agent.WaitFor(heartbeat, absl::ZeroDuration())) {
    }
    ASSERT_TRUE(agent.WaitFor(heartbeat, absl::Seconds(20)));
    ASSERT_TRUE(agent.WaitFor(heartbeat, absl::Seconds(20)));
    const std::vector<v1::Decision> after = agent.Received();
    for (size_t i = before; i < after.size(); ++i) {
      EXPECT_NE(after[i].primary().port(), pbx(0).port());
    }
    pbx(0).Resume();
  }

  bool mutual_tls_ = true;
  std::unique_ptr<TestPki> pki_;
  std::map<std::string, IssuedCertificate> certificates_;
  std::unique_ptr<EtcdServer> etcd_;  // With several replicas.
  std::unique_ptr<RegistrarStack> stack_;
  std::vector<std::unique_ptr<SipresolverdProcess>> more_;
  std::vector<SipresolverdProcess*> replicas_;   // stack_'s daemon first.
  std::unique_ptr<v1::SipResolver::Stub> stub_;  // agent-0's.
  std::unique_ptr<v1::SipResolver::Stub> operator_;
  int registrations_ = 0;
};

// Without TLS the client is its address: every agent here is 127.0.0.1.
class FailStaticPlaintextTest : public FailStaticTest {
 protected:
  void SetUp() override { StartStack(/*mutual_tls=*/false); }
};

// The scenario of the fail-static issue: both registrars ban the prober,
// devices register with the primary and say so: agents stay on it.
TEST_F(FailStaticTest,
       DevicesReportingRegistrationsKeepAgentsOnTheWorkingPrimary) {
  Ban(0);
  Ban(1);
  DecisionWatcher agent(stub(), Request("agent-0"));
  auto a = NewConnection("device-a"), b = NewConnection("device-b");
  ASSERT_TRUE(DeviceRegisters(0));  // The registrar serves devices.
  auto confirmed = agent.WaitFor(
      [&](const v1::Decision& d) {
        Report(*a, "device-a", {pbx(0).port()}, 200);
        Report(*b, "device-b", {pbx(0).port()}, 200);
        return Is(pbx(0).port(), v1::ASSURANCE_DEVICE_REPORTS)(d);
      },
      absl::Seconds(20));
  ASSERT_TRUE(confirmed.has_value());
  EXPECT_FALSE(confirmed->probe_path_suspect());

  // The disagreement is visible where health is.
  auto server = Server(pbx(0).port());
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->health().state(), v1::HEALTH_STATE_UNHEALTHY);  // Probes.
  EXPECT_EQ(server->health().decision_state(), v1::HEALTH_STATE_HEALTHY);
  EXPECT_GE(server->health().device_successes(), 2u);
  EXPECT_EQ(MetricValue(daemon().Metrics(),
                        "sipresolver_disputed_endpoints{quorum=\"reached\"}"),
            1);
  EXPECT_GE(pbx(0).CountRequests("REGISTER"), 2);  // The probes did go out.
}

// A device's hook reports with the CLI: each device is its own process with
// its own certificate, so two of them reach a quorum of two.
TEST_F(FailStaticTest, RegistrationsReportedWithTheCliAreDeviceEvidence) {
  Ban(0);
  Ban(1);
  DecisionWatcher agent(stub(), Request("agent-0"));
  const std::string where = absl::StrCat("127.0.0.1:", pbx(0).port());
  auto confirmed = agent.WaitFor(
      [&](const v1::Decision& d) {
        for (const std::string device : {"device-a", "device-b"}) {
          std::vector<std::string> command = {SIPRESOLVER_CLI_PATH};
          for (std::string& flag : CliConnection(device)) {
            command.push_back(std::move(flag));
          }
          command.insert(command.end(),
                         {"report", where, "200", "--agent_id=" + device});
          CommandResult r = RunCommand(command, absl::Seconds(20));
          EXPECT_EQ(r.exit_status, 0) << r.output;
        }
        return Is(pbx(0).port(), v1::ASSURANCE_DEVICE_REPORTS)(d);
      },
      absl::Seconds(20));
  ASSERT_TRUE(confirmed.has_value());
}

// Without reports the service cannot confirm anything: the agent is told
// what its device would do by itself, never an empty decision.
TEST_F(FailStaticTest, WithoutReportsAgentsGetTheDevicesOwnOrder) {
  Ban(0);
  Ban(1);
  DecisionWatcher agent(stub(), Request("agent-0"));
  auto d = agent.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_UNCONFIRMED),
                         absl::Seconds(20));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->reason().find("fail static"), std::string::npos) << d->reason();
  for (const v1::Decision& seen : agent.Received()) {
    EXPECT_NE(seen.state(), v1::DECISION_STATE_NO_WORKING_SERVER);
  }
  EXPECT_EQ(MetricValue(daemon().Metrics(), "sipresolver_unconfirmed_agents"),
            1);

  Ban(0, false);  // The ban is lifted: confirmed by probes again.
  ASSERT_TRUE(agent.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_PROBES),
                            absl::Seconds(20)));
}

// One client (one certificate, or without TLS one address) opening three
// connections with three agent ids, and more ids besides, reporting that a
// dead server works: one reporter, no quorum, no decision changes.
TEST_F(FailStaticTest, OneClientCannotSteerOthers) {
  ExpectOneClientCannotSteerOthers();
}

TEST_F(FailStaticPlaintextTest, OneAddressCannotSteerOthers) {
  ExpectOneClientCannotSteerOthers();
}

// Three clients with a certificate each are three reporters: a quorum.
TEST_F(FailStaticTest, ThreeCertificatesAreAQuorum) {
  Ban(0);
  Ban(1);
  DecisionWatcher agent(stub(), Request("agent-0"));
  std::vector<std::unique_ptr<v1::SipResolver::Stub>> devices;
  for (const char* name : {"device-a", "device-b", "device-c"}) {
    devices.push_back(NewConnection(name));
  }
  auto confirmed = agent.WaitFor(
      [&](const v1::Decision& d) {
        for (size_t i = 0; i < devices.size(); ++i) {
          Report(*devices[i], absl::StrCat("device-", i), {pbx(0).port()}, 200);
        }
        return Is(pbx(0).port(), v1::ASSURANCE_DEVICE_REPORTS)(d);
      },
      absl::Seconds(20));
  ASSERT_TRUE(confirmed.has_value());
  auto server = Server(pbx(0).port());
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->health().device_successes(), 3u);
}

// Replicas sharing through etcd share device evidence: three devices, each
// reporting to another replica, are a quorum on every replica.
class FailStaticAcrossReplicasTest : public FailStaticTest {
 protected:
  void SetUp() override { StartStack(/*mutual_tls=*/true, /*replicas=*/3); }
};

TEST_F(FailStaticAcrossReplicasTest, ThreeDevicesOnThreeReplicasAreAQuorum) {
  Ban(0);
  Ban(1);
  std::vector<std::unique_ptr<v1::SipResolver::Stub>> agents, devices;
  std::vector<std::unique_ptr<DecisionWatcher>> watchers;
  for (int i = 0; i < 3; ++i) {
    agents.push_back(NewConnection(absl::StrCat("agent-", i), i));
    watchers.push_back(std::make_unique<DecisionWatcher>(
        *agents.back(), Request(absl::StrCat("agent-", i))));
    devices.push_back(NewConnection(absl::StrCat("device-", i), i));
  }
  // Reports count from the probes' verdict on: wait until every replica
  // has it (from its own probes or its owners').
  for (int i = 0; i < 3; ++i) {
    auto operator_stub = NewConnection("operator", i);
    ASSERT_TRUE(Eventually([&] {
      grpc::ClientContext context;
      v1::ListServersResponse response;
      if (!operator_stub->ListServers(&context, {}, &response).ok()) {
        return false;
      }
      for (const v1::ServerStatus& s : response.servers()) {
        if (s.endpoint().port() == pbx(0).port()) {
          return s.health().state() == v1::HEALTH_STATE_UNHEALTHY;
        }
      }
      return false;
    })) << "replica "
        << i;
  }
  for (int j = 0; j < 3; ++j) {  // Device j reports to replica j.
    Report(*devices[j], absl::StrCat("device-", j), {pbx(0).port()}, 200);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(watchers[i]->WaitFor(
        Is(pbx(0).port(), v1::ASSURANCE_DEVICE_REPORTS), absl::Seconds(30)))
        << "replica " << i;
  }
  auto server = Server(pbx(0).port());
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->health().device_successes(), 3u);
  EXPECT_EQ(server->health().decision_state(), v1::HEALTH_STATE_HEALTHY);
}

// Registrars dead for devices too (they report failures): S7 as ever, with
// its retry time. No false fail static.
TEST_F(FailStaticTest, RegistrarsDeadForEveryoneAreNoWorkingServer) {
  DecisionWatcher agent(stub(), Request("agent-0"));
  ASSERT_TRUE(agent.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_PROBES),
                            absl::Seconds(20)));
  pbx(0).Pause();
  pbx(1).Pause();
  auto a = NewConnection("device-a"), b = NewConnection("device-b");
  auto none = agent.WaitFor(
      [&](const v1::Decision& d) {
        Report(*a, "device-a", {pbx(0).port(), pbx(1).port()}, 408);
        Report(*b, "device-b", {pbx(0).port(), pbx(1).port()}, 408);
        return d.state() == v1::DECISION_STATE_NO_WORKING_SERVER;
      },
      absl::Seconds(20));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->has_next_search_time());
  EXPECT_EQ(MetricValue(daemon().Metrics(),
                        "sipresolver_agents{state=\"no_working_server\"}"),
            1);
  pbx(0).Resume();
  pbx(1).Resume();
}

// Every endpoint of several domains banned at once: the service suspects its
// own probe path, says so everywhere, and recovers when the ban lifts.
TEST_F(FailStaticTest, ProbesFailingAcrossDomainsIsPanicUntilTheyRecover) {
  DnsZone zone = stack_->zone();  // A second ITSP on the second registrar.
  zone.srv.push_back({"other.test", "pbx.test", pbx(1).port(), 10, 10});
  ASSERT_TRUE(stack_->dns().Restart(zone).ok());
  DecisionWatcher first(stub(), Request("agent-0"));
  DecisionWatcher second(stub(), Request("agent-1", "other.test"));
  ASSERT_TRUE(first.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_PROBES),
                            absl::Seconds(20)));
  ASSERT_TRUE(second.WaitFor(Is(pbx(1).port(), v1::ASSURANCE_PROBES),
                             absl::Seconds(20)))
      << (second.Received().empty() ? ""
                                    : second.Received().back().DebugString());

  Ban(0);
  Ban(1);
  auto panic = [](const v1::Decision& d) {
    return d.probe_path_suspect() && d.assurance() == v1::ASSURANCE_UNCONFIRMED;
  };
  auto d1 = first.WaitFor(panic, absl::Seconds(20));
  ASSERT_TRUE(d1.has_value());
  // Frozen on the last confirmed primary (pbx1, or pbx2 when pbx1's ban was
  // seen first), never emptied.
  EXPECT_TRUE(d1->has_primary());
  ASSERT_TRUE(second.WaitFor(panic, absl::Seconds(20)));
  EXPECT_EQ(MetricValue(daemon().Metrics(), "sipresolver_probe_path_suspect"),
            1);
  grpc::ClientContext context;
  v1::ListServersResponse servers;
  ASSERT_TRUE(operator_stub().ListServers(&context, {}, &servers).ok());
  EXPECT_TRUE(servers.probe_path_suspect());

  Ban(0, false);
  Ban(1, false);
  ASSERT_TRUE(first.WaitFor(Is(pbx(0).port(), v1::ASSURANCE_PROBES),
                            absl::Seconds(20)));
  ASSERT_TRUE(second.WaitFor(Is(pbx(1).port(), v1::ASSURANCE_PROBES),
                             absl::Seconds(20)));
  EXPECT_EQ(MetricValue(daemon().Metrics(), "sipresolver_probe_path_suspect"),
            0);
}

}  // namespace
}  // namespace sipresolver::testing
