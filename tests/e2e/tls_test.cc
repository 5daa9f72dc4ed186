// End to end: the gRPC port with TLS and mutual TLS, the plaintext
// health-only port, and graceful shutdown handing agents to another replica.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "client/agent.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    auto server = pki_->Issue("server", {"DNS:localhost", "IP:127.0.0.1"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    auto client =
        pki_->Issue("client", {"DNS:agent-7"}, TestPki::Usage::kClient);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
  }

  std::unique_ptr<SipresolverdProcess> StartDaemon(
      std::vector<std::string> flags) {
    flags.push_back("--tls_cert_file=" + server_.cert_file);
    flags.push_back("--tls_key_file=" + server_.key_file);
    auto daemon = SipresolverdProcess::Start("127.0.0.1:1", flags);
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    return daemon.ok() ? *std::move(daemon) : nullptr;
  }

  std::shared_ptr<grpc::Channel> Channel(const SipresolverdProcess& d,
                                         const std::string& ca_file,
                                         bool with_client_cert) {
    return Channel(d, ca_file, with_client_cert ? &client_ : nullptr);
  }

  std::shared_ptr<grpc::Channel> Channel(const SipresolverdProcess& d,
                                         const std::string& ca_file,
                                         const IssuedCertificate* client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(ca_file);
    if (client != nullptr) {
      ssl.pem_cert_chain = ReadFile(client->cert_file);
      ssl.pem_private_key = ReadFile(client->key_file);
    }
    grpc::ChannelArguments args;  // A connection per channel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(d.grpc_address(),
                                     grpc::SslCredentials(ssl), args);
  }

  static grpc::Status ListServers(
      const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::ListServersResponse response;
    return v1::SipResolver::NewStub(channel)->ListServers(&context, {},
                                                          &response);
  }

  // Resolve of an IP literal: no DNS involved, just the transport.
  static grpc::Status Resolve(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::SipResolver::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::ResolveRequest request;
    request.set_server("192.0.2.1");
    v1::ResolveResponse response;
    return stub->Resolve(&context, request, &response);
  }

  std::unique_ptr<TestPki> pki_;
  IssuedCertificate server_, client_;
};

TEST_F(TlsTest, ClientTrustingTheCaConnects) {
  auto daemon = StartDaemon({});
  ASSERT_TRUE(daemon);
  EXPECT_TRUE(Resolve(Channel(*daemon, pki_->ca_file(), false)).ok());
  EXPECT_NE(daemon->process().Output().find(" tls=on "), std::string::npos);
}

TEST_F(TlsTest, WrongCaIsRefused) {
  auto daemon = StartDaemon({});
  ASSERT_TRUE(daemon);
  auto other = TestPki::Create("another CA");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Resolve(Channel(*daemon, (*other)->ca_file(), false)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  auto daemon = StartDaemon({});
  ASSERT_TRUE(daemon);
  EXPECT_FALSE(Resolve(grpc::CreateChannel(daemon->grpc_address(),
                                           grpc::InsecureChannelCredentials()))
                   .ok());
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificate) {
  auto daemon = StartDaemon({"--tls_client_ca_file=" + pki_->ca_file()});
  ASSERT_TRUE(daemon);
  EXPECT_FALSE(Resolve(Channel(*daemon, pki_->ca_file(), false)).ok());
  EXPECT_TRUE(Resolve(Channel(*daemon, pki_->ca_file(), true)).ok());
}

// Roles under mutual TLS: agents resolve and report; ListServers and
// reflection are for the certificates --operator_identities names, and
// everyone else is told which rule refused them.
TEST_F(TlsTest, OperatorsListServersAndReflectAgentsDoNot) {
  auto daemon = StartDaemon({"--tls_client_ca_file=" + pki_->ca_file(),
                             "--operator_identities=ops-*.test"});
  ASSERT_TRUE(daemon);
  EXPECT_NE(daemon->process().Output().find("operator_identities=ops-*.test"),
            std::string::npos)
      << daemon->process().Output();
  auto ops = pki_->Issue("ops", {"DNS:ops-1.test"}, TestPki::Usage::kClient);
  ASSERT_TRUE(ops.ok()) << ops.status();
  auto agent = Channel(*daemon, pki_->ca_file(), &client_);  // agent-7.
  auto operator_channel = Channel(*daemon, pki_->ca_file(), &*ops);

  EXPECT_TRUE(Resolve(agent).ok());
  v1::ReportObservationRequest report;
  report.set_agent_id("agent-7");
  grpc::ClientContext context;
  v1::ReportObservationResponse reported;
  EXPECT_TRUE(v1::SipResolver::NewStub(agent)
                  ->ReportObservation(&context, report, &reported)
                  .ok());
  grpc::Status listed = ListServers(agent);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(listed.error_message(),
            "/sipresolver.v1.SipResolver/ListServers is for operators: this "
            "client's certificate (agent-7) matches no --operator_identities "
            "pattern");
  absl::StatusOr<std::vector<std::string>> reflected =
      ReflectionListServices(agent);
  EXPECT_EQ(reflected.status().code(), absl::StatusCode::kPermissionDenied)
      << reflected.status();

  EXPECT_TRUE(ListServers(operator_channel).ok());
  reflected = ReflectionListServices(operator_channel);
  ASSERT_TRUE(reflected.ok()) << reflected.status();
  EXPECT_NE(std::find(reflected->begin(), reflected->end(),
                      "sipresolver.v1.SipResolver"),
            reflected->end());
  EXPECT_TRUE(Resolve(operator_channel).ok());  // Operators are agents too.
}

TEST_F(TlsTest, ReflectionOffIsUnimplementedForEveryone) {
  auto daemon =
      StartDaemon({"--tls_client_ca_file=" + pki_->ca_file(),
                   "--operator_identities=agent-7", "--reflection=false"});
  ASSERT_TRUE(daemon);
  auto channel = Channel(*daemon, pki_->ca_file(), &client_);
  EXPECT_TRUE(ListServers(channel).ok());
  EXPECT_EQ(ReflectionListServices(channel).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(TlsTest, WithoutMutualTlsEveryoneMayEverythingAndTheLogSaysSo) {
  auto daemon = StartDaemon({});
  ASSERT_TRUE(daemon);
  EXPECT_NE(daemon->process().Output().find(
                "no mutual TLS: every client may list servers"),
            std::string::npos)
      << daemon->process().Output();
  EXPECT_TRUE(ListServers(Channel(*daemon, pki_->ca_file(), false)).ok());
}

TEST_F(TlsTest, OperatorPatternThatNamesNobodyIsAUsageError) {
  CommandResult r =
      RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                  "--metrics_listen=127.0.0.1:0", "--operator_identities=*"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("operator_identities"), std::string::npos)
      << r.output;
  // Without mutual TLS there is no identity to match: refused, not ignored.
  r = RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                  "--metrics_listen=127.0.0.1:0", "--operator_identities=ops"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("operator_identities: needs mutual TLS"),
            std::string::npos)
      << r.output;
}

TEST_F(TlsTest, PlaintextHealthPortServesOnlyHealth) {
  const uint16_t health_port = PickFreePort();
  auto daemon =
      StartDaemon({"--tls_client_ca_file=" + pki_->ca_file(),
                   "--health_listen=127.0.0.1:" + std::to_string(health_port)});
  ASSERT_TRUE(daemon);
  auto plain = grpc::CreateChannel("127.0.0.1:" + std::to_string(health_port),
                                   grpc::InsecureChannelCredentials());
  EXPECT_EQ(HealthCheck(plain, "").value_or(-1), 1);
  EXPECT_EQ(HealthCheck(plain, "sipresolver.v1.SipResolver").value_or(-1), 1);
  EXPECT_EQ(Resolve(plain).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(TlsTest, MissingCertificateFileIsAUsageError) {
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                                "--metrics_listen=127.0.0.1:0",
                                "--tls_cert_file=/nonexistent.pem",
                                "--tls_key_file=" + server_.key_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("tls_cert_file"), std::string::npos) << r.output;
}

// A replica shutting down ends streams with "reconnect"; agents whose channel
// knows another replica continue there at once.
TEST_F(TlsTest, ShutdownHandsAgentsToAnotherReplica) {
  auto a = StartDaemon({"--probe_allow=127.0.0.1/32"});
  auto b = StartDaemon({"--probe_allow=127.0.0.1/32"});
  ASSERT_TRUE(a && b);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(pki_->ca_file());
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(
      "ipv4:127.0.0.1:" + std::to_string(a->grpc_port()) +
          ",127.0.0.1:" + std::to_string(b->grpc_port()),
      grpc::SslCredentials(ssl), args);
  client::AgentOptions options;
  options.channel = channel;
  // IP literal: one candidate; its probes find nothing on the discard port.
  options.profile.set_proxy_server("127.0.0.1");
  options.profile.set_proxy_server_port(9);
  options.agent_id = "agent-7";
  std::atomic<int> reconnects{0};
  options.on_event = [&](const std::string& e) {
    if (e.find("reconnecting in 0") != std::string::npos) ++reconnects;
  };
  client::Agent agent(options);
  std::thread runner([&] { agent.Run().IgnoreError(); });
  ASSERT_TRUE(Eventually([&] { return agent.last_decision().has_value(); }));
  const uint64_t before = agent.last_decision()->version();
  // pick_first: the agent is on a. a goes away; b takes over at once.
  a->process().Signal(SIGTERM);
  EXPECT_TRUE(Eventually([&] { return reconnects > 0; }));
  EXPECT_TRUE(
      Eventually([&] { return agent.last_decision()->version() > before; }));
  EXPECT_EQ(a->process().Wait(absl::Seconds(15)), 0);
  EXPECT_TRUE(Resolve(channel).ok());  // b serves.
  agent.Stop();
  runner.join();
}

}  // namespace
}  // namespace sipresolver::testing
