// `sipresolver watch` learning the device's mapped address (N1-N3) from a
// real STUN server (coturn) and from a REGISTER response, and reporting it.
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/coturn_server.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

class CliNatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = RegistrarStack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }

  std::unique_ptr<Subprocess> Watch(const std::string& profile,
                                    std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        SIPRESOLVER_CLI_PATH,
        "--server=" + stack_->daemon().grpc_address(),
        "watch",
        "--agent_id=device-9",
        "--profile=" + profile,
        "--stun_interval=1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = Subprocess::Start(args);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *std::move(p) : nullptr;
  }

  static std::string StunProfile(uint16_t stun_port) {
    return absl::StrCat(
        R"({"proxy_server":"itsp.test","keep_alive_enable":true,)",
        R"("keep_alive_msg_type":"KEEP_ALIVE_MSG_TYPE_STUN",)",
        R"("keep_alive_server":"127.0.0.1","keep_alive_port":)", stun_port,
        "}");
  }

  std::unique_ptr<RegistrarStack> stack_;
};

// N2/N3: STUN to the configured keep-alive server gives the mapped address,
// printed next to the decision and reported (aggregated) to the service.
TEST_F(CliNatTest, N2_StunKeepAliveLearnsTheMappedAddress) {
  auto coturn = CoturnServer::Start();
  ASSERT_TRUE(coturn.ok()) << coturn.status();
  // Default RTO (500 ms, 7 tries): a loaded machine gets time to answer.
  auto watch = Watch(StunProfile((*coturn)->port()));
  ASSERT_TRUE(watch->WaitForOutput("(learned by stun)", absl::Seconds(30)))
      << watch->Output();
  EXPECT_NE(watch->Output().find("mapped 127.0.0.1:"), std::string::npos);
  // The decision (STUN may be done first), whether probes confirmed it yet
  // or not (fail static).
  EXPECT_TRUE(watch->WaitForOutput(": primary", absl::Seconds(30)))
      << watch->Output();
  EXPECT_GE((*coturn)->CountBindingRequests(), 1);
  EXPECT_TRUE(Eventually([&] {
    return MetricValue(stack_->daemon().Metrics(),
                       "sipresolver_nat_reports_total{behind_nat=\"false\","
                       "changed=\"true\",method=\"stun\"}") >= 1;
  }));
  watch->Signal(SIGINT);
  EXPECT_EQ(watch->Wait(absl::Seconds(10)), 0);
}

// N1: the Via received=/rport= of a REGISTER response the device received.
TEST_F(CliNatTest, N1_RegisterResponseGivesTheMappedAddress) {
  const std::string file =
      "/tmp/sipresolver-register-" + std::to_string(getpid());
  std::ofstream(file)
      << "SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK77;"
         "received=203.0.113.9;rport=40000\r\n"
         "From: <sip:dev@itsp.test>;tag=1\r\nTo: <sip:dev@itsp.test>;tag=2\r\n"
         "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
  auto watch = Watch(R"({"proxy_server":"itsp.test"})",
                     {"--register_response_file=" + file});
  ASSERT_TRUE(watch->WaitForOutput("mapped 203.0.113.9:40000 (learned by via)",
                                   absl::Seconds(10)))
      << watch->Output();
  unlink(file.c_str());
}

// An unresponsive STUN server is reported after the retransmission schedule;
// decisions keep flowing meanwhile.
TEST_F(CliNatTest, UnresponsiveStunServerIsReportedWithoutBlockingDecisions) {
  auto coturn = CoturnServer::Start();
  ASSERT_TRUE(coturn.ok()) << coturn.status();
  (*coturn)->Pause();
  auto watch = Watch(StunProfile((*coturn)->port()), {"--stun_rto=50ms"});
  ASSERT_TRUE(watch->WaitForOutput(": primary", absl::Seconds(10)))
      << watch->Output();
  // RTO 50 ms: the schedule gives up after 50 ms x 79 = 3.95 s.
  EXPECT_TRUE(watch->WaitForOutput("STUN:", absl::Seconds(20)))
      << watch->Output();
  EXPECT_EQ(watch->Output().find("mapped "), std::string::npos);
  (*coturn)->Resume();
}

}  // namespace
}  // namespace sipresolver::testing
