// End to end: the agent library against the real sipresolverd, through
// server crashes and graceful shutdowns.
#include "client/agent.h"

#include <signal.h>

#include <thread>

#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "sipresolver/v1/reconnect.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = RegistrarStack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    daemon_ = &stack_->daemon();
  }

  void TearDown() override {
    if (agent_) agent_->Stop();
    if (runner_.joinable()) runner_.join();
  }

  void StartAgent(v1::ItspProfile profile) {
    client::AgentOptions options;
    options.channel = grpc::CreateChannel(daemon_->grpc_address(),
                                          grpc::InsecureChannelCredentials());
    options.profile = std::move(profile);
    options.agent_id = "agent-7";
    options.initial_backoff = absl::Milliseconds(100);
    options.max_backoff = absl::Milliseconds(500);
    options.on_decision = [this](const v1::Decision& d,
                                 client::DecisionSource) {
      absl::MutexLock lock(&mu_);
      decisions_.push_back(d);
    };
    options.on_event = [this](const std::string& e) {
      absl::MutexLock lock(&mu_);
      events_.push_back(e);
    };
    agent_ = std::make_unique<client::Agent>(options);
    runner_ = std::thread([this] { result_ = agent_->Run(); });
  }

  static v1::ItspProfile Profile() {
    v1::ItspProfile p;
    p.set_proxy_server("itsp.test");
    p.set_proxy_server_redundancy(true);
    return p;
  }

  size_t Events() {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }
  bool HasActiveDecision() {
    auto d = agent_->last_decision();
    return d && d->state() == v1::DECISION_STATE_ACTIVE;
  }

  std::unique_ptr<RegistrarStack> stack_;
  SipresolverdProcess* daemon_ = nullptr;  // Owned by stack_.
  std::unique_ptr<client::Agent> agent_;
  std::thread runner_;
  absl::Status result_;
  absl::Mutex mu_;
  std::vector<v1::Decision> decisions_;
  std::vector<std::string> events_;
};

TEST_F(AgentTest, KeepsItsDecisionWhileTheServerIsDownAndResumes) {
  StartAgent(Profile());
  ASSERT_TRUE(Eventually([&] { return HasActiveDecision(); }));
  const v1::Decision before = *agent_->last_decision();

  daemon_->process().Signal(SIGKILL);
  ASSERT_TRUE(Eventually([&] { return Events() >= 1; }));
  absl::SleepFor(absl::Milliseconds(500));  // Reconnects fail meanwhile.
  ASSERT_TRUE(agent_->last_decision().has_value());
  EXPECT_TRUE(client::SameDecision(*agent_->last_decision(), before));

  ASSERT_TRUE(daemon_->Restart().ok());
  // Resumed: a newer version of the same decision arrives; it is not handed
  // on again because nothing changed for the device.
  ASSERT_TRUE(Eventually([&] {
    auto d = agent_->last_decision();
    return d && d->state() == v1::DECISION_STATE_ACTIVE &&
           d->version() > before.version();
  }));
  absl::MutexLock lock(&mu_);
  int active = 0;
  for (const auto& d : decisions_)
    active += d.state() == v1::DECISION_STATE_ACTIVE;
  EXPECT_EQ(active, 1);
}

TEST_F(AgentTest, GracefulShutdownMeansReconnectNow) {
  StartAgent(Profile());
  ASSERT_TRUE(Eventually([&] { return HasActiveDecision(); }));
  daemon_->process().Signal(SIGTERM);
  ASSERT_TRUE(Eventually([&] { return Events() >= 1; }));
  absl::MutexLock lock(&mu_);
  EXPECT_NE(events_[0].find("reconnecting in 0"), std::string::npos)
      << events_[0];
}

// The contract itself, as any client sees it: UNAVAILABLE with the typed
// trailing metadata (and the old message text).
TEST_F(AgentTest, ShutdownEndsStreamsWithTheReconnectMetadata) {
  grpc::ClientContext context;
  v1::WatchDecisionRequest request;
  *request.mutable_profile() = Profile();
  request.set_agent_id("raw-client");
  auto reader = daemon_->stub().WatchDecision(&context, request);
  v1::Decision first;
  ASSERT_TRUE(reader->Read(&first));
  daemon_->process().Signal(SIGTERM);
  v1::Decision rest;
  while (reader->Read(&rest)) {
  }
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("reconnect"), std::string::npos);
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(v1::kReconnectKey);
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()),
            v1::kReconnectNow);
}

// Device evidence from device software: a registration the device made is
// reported on the agent's channel, and a failure makes the service probe.
TEST_F(AgentTest, ReportRegistrationReachesTheService) {
  StartAgent(Profile());
  ASSERT_TRUE(Eventually([&] { return HasActiveDecision(); }));
  const v1::Candidate primary = agent_->last_decision()->primary();
  v1::Endpoint server;
  server.set_address(primary.address());
  server.set_port(primary.port());
  EXPECT_TRUE(agent_->ReportRegistration(server, 200).ok());
  EXPECT_TRUE(agent_->ReportRegistration(server, 503).ok());
  const std::string metrics = daemon_->Metrics();
  EXPECT_EQ(
      MetricValue(
          metrics,
          "sipresolver_reported_registrations_total{outcome=\"success\"}"),
      1);
  EXPECT_EQ(
      MetricValue(
          metrics,
          "sipresolver_reported_registrations_total{outcome=\"failure\"}"),
      1);
  server.set_address("not an address");  // Bad input: a clear error.
  absl::Status bad = agent_->ReportRegistration(server, 200);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("registrations[0].server.address"),
            std::string::npos)
      << bad;
}

// Refused by the allowlist: the agent keeps trying (the operator may widen
// the allowlist, the ITSP's DNS may change) instead of giving up for good.
TEST_F(AgentTest, PermissionDeniedIsRetried) {
  v1::ItspProfile refused = Profile();
  refused.set_proxy_server("10.9.9.9");  // --probe_allow=127.0.0.1/32.
  refused.set_proxy_server_redundancy(false);
  StartAgent(refused);
  auto refusals = [this] {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const std::string& e : events_)
      n += e.find("10.9.9.9") != std::string::npos;
    return n;
  };
  EXPECT_TRUE(Eventually([&] { return refusals() >= 3; }));
  EXPECT_FALSE(agent_->last_decision().has_value());
}

TEST_F(AgentTest, InvalidProfileEndsTheAgent) {
  v1::ItspProfile bad = Profile();
  bad.set_proxy_server("");
  StartAgent(bad);
  runner_.join();
  EXPECT_EQ(result_.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sipresolver::testing
