// The headline: a real phone (baresip) registered with the first of three
// Kamailio registrars (SRV priorities 10/20/30, digest auth); that registrar
// is SIGSTOPped at a random moment of the phone's re-register interval. How
// long until the phone is registered with another one (seen in the
// registrars' location tables)?
//  - alone: baresip resolves the SRV records itself and re-registers every
//    --regint seconds (what a device does today);
//  - driven: `sipresolver watch` with examples/baresip/sipresolver-baresip
//    moves it when the service's probes see the registrar stop.
// Each trial starts everything afresh. Prints every trial, min/median/max
// and the ratio of the medians.
//
// Run: scripts/bench (README). Flags: --trials=N (default 3), --regint=S
// (default 60).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/support/baresip_phone.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/subprocess.h"

ABSL_FLAG(int, trials, 3, "Trials per mode.");
ABSL_FLAG(int, regint, 60, "The phone's re-register interval, seconds.");

namespace sipresolver::testing {
namespace {

constexpr char kHook[] =
    SIPRESOLVER_SOURCE_DIR "/examples/baresip/sipresolver-baresip";
constexpr absl::Duration kGiveUp = absl::Minutes(5);

bool RegisteredWith(const RegistrarStack& stack, int i) {
  absl::StatusOr<std::string> table = stack.registrar(i).Locations();
  return table.ok() && table->find("AoR: dev1\n") != std::string::npos;
}

// Polls until `done` or kGiveUp; the time it took, or nullopt.
template <typename F>
std::optional<absl::Duration> TimeUntil(F done) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < kGiveUp) {
    if (done()) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return std::nullopt;
}

// One trial; the time from SIGSTOP to a registration elsewhere.
absl::StatusOr<absl::Duration> Trial(bool driven, int regint,
                                     std::mt19937& random) {
  RegistrarStackOptions options;
  options.registrars = 3;
  auto stack = RegistrarStack::Start(options);
  if (!stack.ok()) return stack.status();
  // The phone alone looks up _sip._udp SRV records (RFC 3263).
  DnsZone zone = (*stack)->zone();
  for (int i = 0; i < 3; ++i) {
    zone.srv.push_back({"_sip._udp.itsp.test", "pbx.test",
                        (*stack)->registrar(i).port(),
                        static_cast<uint16_t>(10 * (i + 1)), 10});
  }
  if (absl::Status s = (*stack)->dns().Restart(zone); !s.ok()) return s;
  auto phone = BaresipPhone::Start((*stack)->dns().port());
  if (!phone.ok()) return phone.status();
  std::ofstream((*phone)->File("password")) << "secret\n";

  std::unique_ptr<Subprocess> watch;
  if (driven) {
    std::ofstream((*phone)->File("profile.json"))
        << R"({"proxy_server": "itsp.test", "proxy_server_redundancy": true})";
    auto started = Subprocess::Start(
        {"/usr/bin/env", "BARESIP_CTRL=" + (*phone)->ctrl_address(),
         "SIP_AOR=sip:dev1@itsp.test",
         "SIP_AUTH_PASS_FILE=" + (*phone)->File("password"),
         absl::StrCat("SIP_REGINT=", regint),
         "SIP_STATE_FILE=" + (*phone)->File("applied.json"),
         SIPRESOLVER_CLI_PATH, "--server=" + (*stack)->daemon().grpc_address(),
         "watch", "--profile=@" + (*phone)->File("profile.json"),
         "--agent_id=dev1", std::string("--hook=") + kHook});
    if (!started.ok()) return started.status();
    watch = *std::move(started);
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

std::string Summary(std::vector<absl::Duration> times) {
  std::sort(times.begin(), times.end());
  if (times.empty()) return "no result";
  return absl::StrFormat("%.2f / %.2f / %.2f s (min / median / max, n=%d)",
                         absl::ToDoubleSeconds(times.front()),
                         absl::ToDoubleSeconds(times[times.size() / 2]),
                         absl::ToDoubleSeconds(times.back()),
                         static_cast<int>(times.size()));
}

int Main() {
  const int trials = absl::GetFlag(FLAGS_trials);
  const int regint = absl::GetFlag(FLAGS_regint);
  std::mt19937 random(std::random_device{}());
  std::vector<absl::Duration> results[2];
  std::printf(
      "phone_failover_bench: baresip, 3 Kamailio registrars, SIGSTOP of the "
      "one it is registered with at a random phase of regint=%d s\n",
      regint);
  for (bool driven : {false, true}) {
    const char* mode = driven ? "driven by sipresolver" : "alone";
    for (int t = 0; t < trials; ++t) {
      absl::StatusOr<absl::Duration> took = Trial(driven, regint, random);
      if (!took.ok()) {
        std::printf("  %s, trial %d: %s\n", mode, t + 1,
                    std::string(took.status().message()).c_str());
        continue;
      }
      results[driven].push_back(*took);
      std::printf("  %s, trial %d: registered elsewhere after %.2f s\n", mode,
                  t + 1, absl::ToDoubleSeconds(*took));
      std::fflush(stdout);
    }
  }
  std::printf("alone:                 %s\n", Summary(results[0]).c_str());
  std::printf("driven by sipresolver: %s\n", Summary(results[1]).c_str());
  if (!results[0].empty() && !results[1].empty()) {
    std::sort(results[0].begin(), results[0].end());
    std::sort(results[1].begin(), results[1].end());
    std::printf("ratio of medians: %.0fx sooner with sipresolver\n",
                absl::FDivDuration(results[0][results[0].size() / 2],
                                   results[1][results[1].size() / 2]));
  }
  return results[0].empty() || results[1].empty() ? 1 : 0;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Main();
}
