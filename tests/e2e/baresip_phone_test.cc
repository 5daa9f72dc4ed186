// The last meter: a real SIP phone (baresip, headless, driven over ctrl_tcp
// by examples/baresip/sipresolver-baresip as the `watch` hook) registers
// where the service decides. Real DNS, three real Kamailio registrars with
// digest auth (SRV priorities 10/20/30), the real sipresolverd and CLI;
// where the phone is registered is read from each registrar's location
// table (kamcmd ul.dump).

#include "tests/support/baresip_phone.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/agent_command.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {
namespace {

constexpr char kHook[] =
    SIPRESOLVER_SOURCE_DIR "/examples/baresip/sipresolver-baresip";
constexpr char kReports[] =
    SIPRESOLVER_SOURCE_DIR "/examples/baresip/sipresolver-baresip-reports";

// Every scenario for each agent a device can run (AgentKind).
class BaresipPhoneTest : public ::testing::TestWithParam<AgentKind> {
 protected:
  void SetUp() override {
    RegistrarStackOptions options;
    options.registrars = 3;
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    auto dir = TempDir::Create("baresip_phone_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    ASSERT_NO_FATAL_FAILURE(StartPhone());
  }

  // baresip with no account until the hook adds one.
  void StartPhone() {
    auto phone = BaresipPhone::Start(stack_->dns().port());
    ASSERT_TRUE(phone.ok()) << phone.status();
    phone_ = *std::move(phone);
    std::ofstream(dir_.File("password")) << "secret\n";
  }

  // The agent, with the profile's JSON fields after proxy_server and
  // `extra_flags`; the phone re-registers every `regint` seconds.
  void StartWatch(const std::string& profile_fields =
                      R"("check_primary_fallback_interval": "2s")",
                  const std::vector<std::string>& extra_flags = {},
                  int regint = 60) {
    std::ofstream(dir_.File("profile.json"))
        << R"({"proxy_server": "itsp.test", "proxy_server_redundancy": true, )"
        << profile_fields << "}";
    std::vector<std::string> flags = {"--profile=@" + dir_.File("profile.json"),
                                      "--agent_id=dev1",
                                      std::string("--hook=") + kHook};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    std::vector<std::string> argv = PhoneEnvironment();
    argv.push_back(absl::StrCat("SIP_REGINT=", regint));
    for (std::string& arg :
         AgentCommand(GetParam(), stack_->daemon().grpc_address(), flags))
      argv.push_back(std::move(arg));
    auto watch = Subprocess::Start(argv);
    ASSERT_TRUE(watch.ok()) << watch.status();
    watch_ = *std::move(watch);
  }

  // `/usr/bin/env` with what the reference hook and reports read.
  std::vector<std::string> PhoneEnvironment() {
    return {"/usr/bin/env",
            "BARESIP_CTRL=" + phone_->ctrl_address(),
            "SIP_AOR=sip:dev1@itsp.test",
            "SIP_AUTH_PASS_FILE=" + dir_.File("password"),
            "SIP_STATE_FILE=" + dir_.File("applied.json"),
            "SIPRESOLVER_REPORT_SOCKET=" + dir_.File("report")};
  }

  // The phone's registrations reported to the agent's --report_socket.
  void StartReports() {
    std::vector<std::string> argv = PhoneEnvironment();
    argv.push_back(kReports);
    auto reports = Subprocess::Start(argv);
    ASSERT_TRUE(reports.ok()) << reports.status();
    reports_ = *std::move(reports);
  }

  // The phone's binding is in registrar i's location table.
  bool RegisteredWith(int i) {
    absl::StatusOr<std::string> table = stack_->registrar(i).Locations();
    return table.ok() && table->find("AoR: dev1\n") != std::string::npos;
  }
  bool RegisteredOnlyWith(int i) {
    for (int j = 0; j < 3; ++j) {
      if (RegisteredWith(j) != (i == j)) return false;
    }
    return true;
  }
  std::string Diagnostics() {
    std::string out = absl::StrCat("agent:\n", watch_->Output(), "\nbaresip:\n",
                                   phone_->Output(), "\nreports:\n",
                                   reports_ ? reports_->Output() : "");
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<std::string> table = stack_->registrar(i).Locations();
      absl::StrAppend(&out, "\nregistrar ", i, ":\n",
                      table.ok() ? *table : table.status().ToString());
    }
    return out;
  }
  // The WatchDecision request of StartWatch's profile, for an observer.
  v1::WatchDecisionRequest WatchedRequest() {
    v1::WatchDecisionRequest request;
    request.set_agent_id("observer");
    std::stringstream json;
    json << std::ifstream(dir_.File("profile.json")).rdbuf();
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        json.str(), request.mutable_profile());
    EXPECT_TRUE(parsed.ok()) << parsed.ToString();
    return request;
  }
  // The decision lines ("v12 active: primary ...") in an agent's output: one
  // for each decision it applied.
  static std::vector<std::string> DecisionLines(absl::string_view output) {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(output, '\n')) {
      if (line.size() > 1 && line[0] == 'v' && absl::ascii_isdigit(line[1]))
        lines.emplace_back(line);
    }
    return lines;
  }
  int HookRuns() {
    const std::string out = watch_->Output();
    int n = 0;
    for (size_t at = out.find("registers through"); at != std::string::npos;
         at = out.find("registers through", at + 1)) {
      ++n;
    }
    return n;
  }

  std::unique_ptr<RegistrarStack> stack_;
  TempDir dir_;
  std::unique_ptr<BaresipPhone> phone_;  // Stopped after the agent.
  std::unique_ptr<Subprocess> watch_;
  std::unique_ptr<Subprocess> reports_;
};

TEST_P(BaresipPhoneTest, PhoneFollowsFailoverAndFallback) {
  ASSERT_NO_FATAL_FAILURE(StartWatch());
  ASSERT_TRUE(Eventually([&] { return RegisteredOnlyWith(0); }))
      << Diagnostics();

  stack_->registrar(0).Pause();  // SIGSTOP: the registrar hangs.
  ASSERT_TRUE(Eventually([&] { return RegisteredWith(1); })) << Diagnostics();

  stack_->registrar(0).Resume();
  // Back at the next S8 check (2 s here); the registration through the
  // second registrar is removed.
  EXPECT_TRUE(Eventually([&] { return RegisteredOnlyWith(0); }))
      << Diagnostics();
}

TEST_P(BaresipPhoneTest, ServerRestartLeavesThePhoneAlone) {
  ASSERT_NO_FATAL_FAILURE(StartWatch());
  ASSERT_TRUE(Eventually([&] { return RegisteredOnlyWith(0); }))
      << Diagnostics();
  ASSERT_TRUE(Eventually([&] { return HookRuns() == 1; })) << Diagnostics();

  const size_t before_restart = watch_->Output().size();
  ASSERT_TRUE(stack_->daemon().Restart().ok());
  // The agent is back on a stream of the new server...
  ASSERT_TRUE(Eventually([&] {
    return MetricValue(stack_->daemon().Metrics(),
                       "sipresolver_decision_streams") == 1;
  })) << Diagnostics();
  // ... which has sent it the same decision (an observer of the same
  // profile shares its watcher) ...
  {
    DecisionWatcher observer(stack_->daemon().stub(), WatchedRequest());
    ASSERT_TRUE(observer.WaitFor([&](const v1::Decision& d) {
      return d.state() == v1::DECISION_STATE_ACTIVE &&
             d.primary().port() == stack_->registrar(0).port();
    })) << Diagnostics();
  }
  // ... which changed nothing on the phone: the agent hands decisions on in
  // order, printing each before its hook runs, so the first it applies
  // after the restart is the next one that changes something (the first
  // registrar stops answering).
  EXPECT_TRUE(RegisteredOnlyWith(0)) << Diagnostics();
  stack_->registrar(0).Pause();
  ASSERT_TRUE(Eventually([&] { return RegisteredWith(1); })) << Diagnostics();
  const std::vector<std::string> applied =
      DecisionLines(watch_->Output().substr(before_restart));
  ASSERT_FALSE(applied.empty()) << Diagnostics();
  EXPECT_TRUE(absl::StrContains(
      applied[0],
      absl::StrCat("primary 127.0.0.1:", stack_->registrar(1).port(), " (")))
      << applied[0] << "\n"
      << Diagnostics();
  stack_->registrar(0).Resume();
}

// Hook contract 3: the agent has been without the service too long and
// hands control back; the phone registers by its own resolution of the
// AOR's domain (no outbound proxy), made before the old registration goes.
TEST_P(BaresipPhoneTest, DeviceControlRegistersByThePhonesOwnResolution) {
  // What the phone resolves by itself (RFC 3263: _sip._udp.itsp.test) leads
  // to the third registrar only; the service's SRV of the bare name (R1)
  // still leads to the first. Where the phone lands shows who resolved.
  DnsZone zone = stack_->zone();
  zone.srv.push_back({absl::StrCat("_sip._udp.", RegistrarStack::kDomain),
                      stack_->zone().srv.at(2).target,
                      stack_->registrar(2).port(), 10, 10});
  ASSERT_TRUE(stack_->dns().Restart(zone).ok());
  ASSERT_NO_FATAL_FAILURE(
      StartWatch(R"("check_primary_fallback_interval": "2s")",
                 {"--device_control_after=2s"}));
  ASSERT_TRUE(Eventually([&] { return RegisteredOnlyWith(0); }))
      << Diagnostics();

  stack_->daemon().Kill();
  // Made before the registration through the outbound proxy is removed.
  EXPECT_TRUE(Eventually([&] { return RegisteredOnlyWith(2); }))
      << Diagnostics();
  // The hook's line reaches the agent's output through a pipe, maybe after
  // the registrar saw the registration.
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(watch_->Output(),
                             "registers through its own resolution of the "
                             "domain");
  })) << Diagnostics();
}

TEST_P(BaresipPhoneTest, S9_SecondaryRegistrationThroughTheSecondServer) {
  ASSERT_NO_FATAL_FAILURE(StartWatch(R"("secondary_registration": true)"));
  EXPECT_TRUE(Eventually([&] {
    return RegisteredWith(0) && RegisteredWith(1) && !RegisteredWith(2);
  })) << Diagnostics();
}

// Never worse than the phone alone: the service is gone, then the
// registrar the phone is on stops. The phone's next REGISTER fails, its
// report reaches the agent, which moves it down its candidates (local
// failover) to the next registrar.
TEST_P(BaresipPhoneTest, ServiceGoneThenRegistrarStopsThePhoneMovesOn) {
  KamailioConfig quick;
  quick.min_expires = 10;  // The phone re-registers every 10 s.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(stack_->registrar(i).Restart(quick).ok());
  ASSERT_NO_FATAL_FAILURE(
      StartWatch(R"("check_primary_fallback_interval": "2s")",
                 {"--report_socket=" + dir_.File("report")}, /*regint=*/10));
  ASSERT_NO_FATAL_FAILURE(StartReports());
  ASSERT_TRUE(Eventually([&] { return RegisteredOnlyWith(0); }))
      << Diagnostics();

  stack_->daemon().Kill();
  stack_->registrar(0).Stop();
  // The next refresh (10 s) fails; over UDP after Timer F (32 s).
  EXPECT_TRUE(Eventually([&] { return RegisteredWith(1); }, absl::Minutes(2)))
      << Diagnostics();
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(watch_->Output(), "local failover");
  })) << Diagnostics();
}

INSTANTIATE_TEST_SUITE_P(Agents, BaresipPhoneTest,
                         ::testing::Values(AgentKind::kWatch,
                                           AgentKind::kDevice),
                         [](const auto& info) {
                           return AgentName(info.param);
                         });

}  // namespace
}  // namespace sipresolver::testing
