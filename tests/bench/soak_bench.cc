// Soak: thousands of agents watching one profile for a long time while
// registrars fail and recover on a schedule and DNS TTLs keep expiring.
// Reports the server's RSS and open fds over time (no growth after warm-up
// is the goal), decisions delivered, whether every agent ends on the right
// primary, and stream errors.
//
// Run: scripts/bench soak (README). Flags: --agents (2000), --duration (10m),
// --flap_every (20s): every period one registrar is paused, the next period
// it is resumed, in rotation.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/bench/streaming_agents.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"

ABSL_FLAG(int, agents, 2000, "Agents (WatchDecision streams).");
ABSL_FLAG(absl::Duration, duration, absl::Minutes(10),
          "How long the soak runs.");
ABSL_FLAG(absl::Duration, flap_every, absl::Seconds(20),
          "Registrar failure period.");

namespace sipresolver::testing {
namespace {

// One agent's handler: counts the decisions it is sent (not heartbeats) in
// `decisions` and keeps its current primary's port in `primary_port` (0 while
// it has none).
StreamingFleet::DecisionHandler TrackPrimary(std::atomic<int64_t>& decisions,
                                             std::atomic<int>& primary_port) {
  return [&decisions, &primary_port](const v1::Decision& decision) {
    if (decision.heartbeat()) return;
    ++decisions;
    primary_port = decision.state() == v1::DECISION_STATE_ACTIVE
                       ? static_cast<int>(decision.primary().port())
                       : 0;
  };
}

long ProcKib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0)
      return std::stol(line.substr(std::strlen(field)));
  }
  return 0;
}

int Fds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/fd", ec);
       it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

int Run() {
  const int agents = absl::GetFlag(FLAGS_agents);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const absl::Duration flap = absl::GetFlag(FLAGS_flap_every);
  std::vector<std::unique_ptr<KamailioServer>> pbx;
  for (int i = 0; i < 3; ++i) {
    auto k = KamailioServer::Start();
    if (!k.ok()) return 1;
    pbx.push_back(*std::move(k));
  }
  DnsZone zone;
  zone.ttl = 5;  // Renewed every 5 s by the watcher: S11 all the time.
  zone.hosts = {{"pbx.test", {"127.0.0.1"}}};
  for (int i = 0; i < 3; ++i) {
    zone.srv.push_back({"itsp.test", "pbx.test", pbx[i]->port(),
                        static_cast<uint16_t>(10 * (i + 1)), 10});
  }
  auto dns = DnsmasqServer::Start(zone);
  if (!dns.ok()) return 1;
  auto daemon = SipresolverdProcess::Start(
      (*dns)->address(),
      {"--probe_allow=127.0.0.1/32", "--probe_interval=1s",
       "--probe_edge_interval=250ms", "--probe_timeout=500ms",
       "--max_streams=1000000", "--max_streams_per_connection=1000000",
       "--heartbeat_interval=10s", "--cache_max_ttl=5s"});
  if (!daemon.ok()) return 1;
  const pid_t pid = (*daemon)->process().pid();

  std::atomic<int64_t> decisions{0};
  std::vector<std::atomic<int>> primary_ports(
      std::max(0, agents));  // Each agent's, 0 at first.
  StreamingFleet fleet((*daemon)->grpc_address(), 10);
  for (int i = 0; i < agents; ++i) {
    v1::WatchDecisionRequest r;
    r.set_agent_id(absl::StrCat("soak-", i));
    r.mutable_profile()->set_proxy_server("itsp.test");
    r.mutable_profile()->set_proxy_server_redundancy(true);
    r.mutable_profile()->set_secondary_registration(true);
    r.mutable_profile()->mutable_check_primary_fallback_interval()->set_seconds(
        5);
    fleet.Add(r, TrackPrimary(decisions, primary_ports[i]));
  }

  std::printf(
      "Soak: %d agents, 3 registrars (one fails every %s, in rotation), "
      "DNS TTL 5 s, %s\n  %8s %10s %6s %12s\n",
      agents, absl::FormatDuration(flap).c_str(),
      absl::FormatDuration(duration).c_str(), "time", "RSS KiB", "fds",
      "decisions");
  const absl::Time start = absl::Now();
  absl::Time next_flap = start + flap, next_sample = start;
  int flap_index = 0;
  bool paused = false;
  while (absl::Now() - start < duration) {
    const absl::Time now = absl::Now();
    if (now >= next_sample) {
      std::printf("  %7.0fs %10ld %6d %12lld\n",
                  absl::ToDoubleSeconds(now - start), ProcKib(pid, "VmRSS:"),
                  Fds(pid), static_cast<long long>(decisions.load()));
      std::fflush(stdout);
      next_sample += absl::Seconds(30);
    }
    if (now >= next_flap) {
      if (paused) {
        pbx[flap_index]->Resume();
        flap_index = (flap_index + 1) % 3;
      } else {
        pbx[flap_index]->Pause();
      }
      paused = !paused;
      next_flap += flap;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  if (paused) pbx[flap_index]->Resume();
  // Everything up again: after fallback checks, every agent is on pbx0.
  absl::SleepFor(absl::Seconds(15));
  int right = 0;
  for (const auto& port : primary_ports) right += port == pbx[0]->port();
  std::printf(
      "  end: %d of %d agents on the top-priority registrar; %lld decisions "
      "delivered; %d streams ended early; RSS %ld KiB, %d fds\n",
      right, agents, static_cast<long long>(decisions.load()), fleet.ended(),
      ProcKib(pid, "VmRSS:"), Fds(pid));
  fleet.CancelAll(absl::Seconds(30));
  return right == agents ? 0 : 1;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Run();
}
