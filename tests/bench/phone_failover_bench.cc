// The headline: a real phone (baresip) registered with the first of three
// Kamailio registrars (SRV priorities 10/20/30, digest auth); that registrar
// is SIGSTOPped at a random moment of the phone's re-register interval. How
// long until the phone is registered with another one (seen in the
// registrars' location tables)?
//  - alone: baresip resolves the SRV records itself and re-registers every
//    --regint seconds (what a device does today);
//  - watch, agent: `sipresolver watch`, or the device-sized sipresolver-agent,
//    with examples/baresip/sipresolver-baresip moves it when the service's
//    probes see the registrar stop;
//  - agent without the service: sipresolverd is killed first; the phone's
//    next REGISTER times out, sipresolver-baresip-reports tells the agent,
//    which moves it down its candidates by itself (local failover).
// Each trial starts everything afresh. Prints every trial, min/median/max
// and each mode's median against the phone alone.
//
// Run: scripts/bench (README). Flags: --trials=N (default 3), --regint=S
// (default 60), --modes=alone,watch,agent,agent_without_service.
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/bench/phone_bench_support.h"
#include "tests/support/agent_command.h"
#include "tests/support/baresip_phone.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/subprocess.h"

ABSL_FLAG(int, trials, 3, "Trials per mode.");
ABSL_FLAG(int, regint, 60, "The phone's re-register interval, seconds.");
ABSL_FLAG(std::vector<std::string>, modes,
          std::vector<std::string>({"alone", "watch", "agent",
                                    "agent_without_service"}),
          "Modes to run, in this order.");

namespace sipresolver::testing {
namespace {

constexpr char kHook[] =
    SIPRESOLVER_SOURCE_DIR "/examples/baresip/sipresolver-baresip";
constexpr char kReports[] =
    SIPRESOLVER_SOURCE_DIR "/examples/baresip/sipresolver-baresip-reports";
// One trial; the time from SIGSTOP to a registration elsewhere.
absl::StatusOr<absl::Duration> Trial(const std::string& mode, int regint,
                                     std::mt19937& random) {
  RegistrarStackOptions options;
  options.registrars = 3;
  auto stack = RegistrarStack::Start(options);
  if (!stack.ok()) return stack.status();
  // The phone alone looks up _sip._udp SRV records (RFC 3263).
  if (absl::Status s = PublishSipUdpSrv(**stack, 3); !s.ok()) return s;
  auto phone = BaresipPhone::Start((*stack)->dns().port());
  if (!phone.ok()) return phone.status();
  std::ofstream((*phone)->File("password")) << "secret\n";

  std::unique_ptr<Subprocess> agent, reports;
  if (mode != "alone") {
    std::ofstream((*phone)->File("profile.json"))
        << R"({"proxy_server": "itsp.test", "proxy_server_redundancy": true})";
    const std::vector<std::string> environment = {
        "/usr/bin/env",
        "BARESIP_CTRL=" + (*phone)->ctrl_address(),
        "SIP_AOR=sip:dev1@itsp.test",
        "SIP_AUTH_PASS_FILE=" + (*phone)->File("password"),
        absl::StrCat("SIP_REGINT=", regint),
        "SIP_STATE_FILE=" + (*phone)->File("applied.json"),
        "SIPRESOLVER_REPORT_SOCKET=" + (*phone)->File("report")};
    std::vector<std::string> argv = environment;
    for (std::string& arg :
         AgentCommand(mode == "watch" ? AgentKind::kWatch : AgentKind::kDevice,
                      (*stack)->daemon().grpc_address(),
                      {"--profile=@" + (*phone)->File("profile.json"),
                       "--agent_id=dev1", std::string("--hook=") + kHook,
                       "--report_socket=" + (*phone)->File("report")}))
      argv.push_back(std::move(arg));
    auto started = Subprocess::Start(argv);
    if (!started.ok()) return started.status();
    agent = *std::move(started);
    argv = environment;
    argv.push_back(kReports);
    started = Subprocess::Start(argv);
    if (!started.ok()) return started.status();
    reports = *std::move(started);
  } else {
    absl::StatusOr<std::string> added = (*phone)->Command(
        "uanew",
        absl::StrCat("<sip:dev1@itsp.test>;auth_pass=secret;regint=", regint));
    if (!added.ok()) return added.status();
  }
  if (!TimeUntil([&] { return RegisteredWith(**stack, 0); })) {
    return absl::DeadlineExceededError(absl::StrCat(
        "never registered with the primary:\n", (*phone)->Output()));
  }
  if (mode == "agent_without_service") (*stack)->daemon().Kill();
  // A random moment of the re-register interval.
  std::uniform_int_distribution<int> phase_ms(0, regint * 1000);
  absl::SleepFor(absl::Milliseconds(phase_ms(random)));
  (*stack)->registrar(0).Pause();
  auto took = TimeUntil(
      [&] { return RegisteredWith(**stack, 1) || RegisteredWith(**stack, 2); });
  (*stack)->registrar(0).Resume();
  if (!took) {
    return absl::DeadlineExceededError("not registered elsewhere in 5 min");
  }
  return *took;
}

int Main() {
  const int trials = absl::GetFlag(FLAGS_trials);
  const int regint = absl::GetFlag(FLAGS_regint);
  const std::vector<std::string> modes = absl::GetFlag(FLAGS_modes);
  std::mt19937 random(std::random_device{}());
  std::map<std::string, std::vector<absl::Duration>> results;
  std::printf(
      "phone_failover_bench: baresip, 3 Kamailio registrars, SIGSTOP of the "
      "one it is registered with at a random phase of regint=%d s\n",
      regint);
  for (const std::string& mode : modes) {
    for (int t = 0; t < trials; ++t) {
      absl::StatusOr<absl::Duration> took = Trial(mode, regint, random);
      if (!took.ok()) {
        std::printf("  %s, trial %d: %s\n", mode.c_str(), t + 1,
                    std::string(took.status().message()).c_str());
        continue;
      }
      results[mode].push_back(*took);
      std::printf("  %s, trial %d: registered elsewhere after %.2f s\n",
                  mode.c_str(), t + 1, absl::ToDoubleSeconds(*took));
      std::fflush(stdout);
    }
  }
  PrintModes(modes, results, 22);
  int failed = 0;
  for (const std::string& mode : modes) failed += results[mode].empty();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Main();
}
