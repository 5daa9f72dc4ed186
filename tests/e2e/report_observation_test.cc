// End to end: agents report what they saw (N1-N3 mappings, registration
// outcomes); the service aggregates it and re-probes servers that failed.
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class ReportObservationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistrarStackOptions options;
    // Probes far apart: only a report brings the next one forward.
    options.probe_flags = {"--probe_allow=127.0.0.1/32",
                           "--probe_interval=30s"};
    options.extra_flags = {"--max_reports_per_minute=60"};
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    pbx_ = &stack_->registrar(0);
    daemon_ = &stack_->daemon();
  }

  grpc::Status Report(const v1::ReportObservationRequest& request,
                      v1::ReportObservationResponse* response = nullptr) {
    v1::ReportObservationResponse ignored;
    grpc::ClientContext context;
    return daemon_->stub().ReportObservation(&context, request,
                                             response ? response : &ignored);
  }

  v1::ReportObservationRequest FailedRegistration() {
    v1::ReportObservationRequest r;
    r.set_agent_id("device-1");
    v1::RegistrationOutcome* o = r.add_registrations();
    o->mutable_server()->set_address("127.0.0.1");
    o->mutable_server()->set_port(pbx_->port());
    o->set_status_code(0);
    o->set_error("timeout");
    return r;
  }

  std::unique_ptr<RegistrarStack> stack_;
  KamailioServer* pbx_ = nullptr;  // Owned by stack_, as is daemon_.
  SipresolverdProcess* daemon_ = nullptr;
};

TEST_F(ReportObservationTest, ReportedFailureReprobesTheServerAtOnce) {
  // An agent watching the ITSP: its registrar is probed from now on.
  DecisionWatcher watcher(daemon_->stub(),
                          WatchRequest("device-0", "itsp.test", false));
  // The first probe has its answer: none is in flight, which a report
  // could not bring forward.
  ASSERT_TRUE(Eventually([&] {
    v1::ListServersResponse list;
    grpc::ClientContext context;
    return daemon_->stub().ListServers(&context, {}, &list).ok() &&
           list.servers_size() == 1 &&
           list.servers(0).health().state() == v1::HEALTH_STATE_HEALTHY;
  }));
  const int before = pbx_->CountRequests("REGISTER");

  v1::ReportObservationResponse response;
  ASSERT_TRUE(Report(FailedRegistration(), &response).ok());
  EXPECT_EQ(response.reprobes_scheduled(), 1u);
  // The next probe was 30 s away; the report brings it forward.
  EXPECT_TRUE(pbx_->WaitForRequests("REGISTER", before + 1, absl::Seconds(10)));
  EXPECT_EQ(
      MetricValue(
          daemon_->Metrics(),
          "sipresolver_reported_registrations_total{outcome=\"failure\"}"),
      1);
}

TEST_F(ReportObservationTest, MappingReportsAreCountedNotKept) {
  v1::ReportObservationRequest r;
  r.set_agent_id("device-1");
  v1::MappedAddress* m = r.mutable_mapped_address();
  m->set_address("203.0.113.7");
  m->set_port(40001);
  m->set_method(v1::MAPPING_METHOD_STUN);
  m->set_local_address("192.168.1.20");
  m->set_local_port(5060);
  m->set_changed(true);
  ASSERT_TRUE(Report(r).ok());
  const std::string metrics = daemon_->Metrics();
  EXPECT_EQ(MetricValue(metrics,
                        "sipresolver_nat_reports_total{behind_nat=\"true\","
                        "changed=\"true\",method=\"stun\"}"),
            1);
  EXPECT_EQ(metrics.find("203.0.113.7"),
            std::string::npos);  // No per-device data.
  EXPECT_EQ(metrics.find("device-1"), std::string::npos);
}

TEST_F(ReportObservationTest, BadInputNamesTheField) {
  v1::ReportObservationRequest r = FailedRegistration();
  r.mutable_registrations(0)->mutable_server()->set_address("pbx.test");
  grpc::Status s = Report(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("registrations[0].server.address"),
            std::string::npos)
      << s.error_message();
  r = FailedRegistration();
  r.mutable_registrations(0)->set_status_code(42);
  EXPECT_EQ(Report(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  r = FailedRegistration();
  r.clear_agent_id();
  EXPECT_EQ(Report(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  r = FailedRegistration();
  for (int i = 0; i < 20; ++i) *r.add_registrations() = r.registrations(0);
  EXPECT_EQ(Report(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReportObservationTest, ReportsPerConnectionAreRateLimited) {
  int exhausted = 0;
  for (int i = 0; i < 30; ++i) {
    exhausted += Report(FailedRegistration()).error_code() ==
                 grpc::StatusCode::RESOURCE_EXHAUSTED;
  }
  EXPECT_GE(exhausted, 15);  // Burst of 10, then 1 per second.
}

}  // namespace
}  // namespace sipresolver::testing
