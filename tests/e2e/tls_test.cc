// End to end: the gRPC port with TLS and mutual TLS, the plaintext
// health-only port, and graceful shutdown handing agents to another replica.
#include <signal.h>

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
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(ca_file);
    if (with_client_cert) {
      ssl.pem_cert_chain = ReadFile(client_.cert_file);
      ssl.pem_private_key = ReadFile(client_.key_file);
    }
    return grpc::CreateChannel(d.grpc_address(), grpc::SslCredentials(ssl));
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
