// Fan-out: N agents watch one profile over real gRPC streams; the primary
// registrar (a real Kamailio) is made unresponsive; how long until every
// agent has the new primary? Also the server's memory per connected agent.
//
// Run: scripts/bench (README). Flags: --agents=N (default 10000),
// --channels=C (connections the agents share, default 20).

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/bench/streaming_agents.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/eventually.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"

ABSL_FLAG(int, agents, 10000, "Agents (WatchDecision streams).");
ABSL_FLAG(int, channels, 20, "gRPC connections the agents share.");

namespace sipresolver::testing {
namespace {

// Shared by all agents: when each one saw the primary change.
struct Board {
  std::atomic<int> initial{0};
  std::atomic<int> switched{0};
  uint16_t old_port = 0, new_port = 0;
  absl::Mutex mu;
  std::vector<absl::Time> switch_times ABSL_GUARDED_BY(mu);
};

// One agent's handler: counts its first decision on the old primary, and
// when it first saw the new one.
StreamingFleet::DecisionHandler RecordSwitch(Board& board) {
  return [&board, seen_initial = false,
          switched = false](const v1::Decision& decision) mutable {
    if (decision.state() != v1::DECISION_STATE_ACTIVE) return;
    const uint16_t port = decision.primary().port();
    if (port == board.old_port && !seen_initial) {
      seen_initial = true;
      ++board.initial;
    } else if (port == board.new_port && !switched) {
      switched = true;
      const absl::Time now = absl::Now();
      {
        absl::MutexLock lock(&board.mu);
        board.switch_times.push_back(now);
      }
      ++board.switched;
    }
  };
}

long RssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// CPU (user + system) a process has used, from /proc.
double CpuSeconds(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)),
                  std::istreambuf_iterator<char>());
  // Fields after the command name, which ends with the last ')'.
  std::vector<std::string> f =
      absl::StrSplit(all.substr(all.rfind(')') + 2), ' ', absl::SkipEmpty());
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / sysconf(_SC_CLK_TCK);
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

int Run() {
  const int agents = absl::GetFlag(FLAGS_agents);
  const int channels = std::max(1, absl::GetFlag(FLAGS_channels));
  auto pbx1 = KamailioServer::Start();
  auto pbx2 = KamailioServer::Start();
  if (!pbx1.ok() || !pbx2.ok()) {
    std::fprintf(stderr, "kamailio failed\n");
    return 1;
  }
  DnsZone zone;
  zone.ttl = 3600;
  zone.hosts = {{"pbx.test", {"127.0.0.1"}}};
  zone.srv = {{"itsp.test", "pbx.test", (*pbx1)->port(), 10, 10},
              {"itsp.test", "pbx.test", (*pbx2)->port(), 20, 10}};
  auto dns = DnsmasqServer::Start(zone);
  if (!dns.ok()) return 1;
  const std::string interval = "1s", timeout = "500ms";
  auto daemon = SipresolverdProcess::Start(
      (*dns)->address(),
      {"--probe_allow=127.0.0.1/32", "--probe_interval=" + interval,
       "--probe_edge_interval=250ms", "--probe_timeout=" + timeout,
       "--max_streams=1000000", "--max_streams_per_connection=1000000",
       "--heartbeat_interval=60s"});
  if (!daemon.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(daemon.status().message()).c_str());
    return 1;
  }
  const pid_t pid = (*daemon)->process().pid();
  absl::SleepFor(absl::Milliseconds(500));
  const long rss_before = RssKib(pid);

  Board board;
  board.old_port = (*pbx1)->port();
  board.new_port = (*pbx2)->port();
  StreamingFleet fleet((*daemon)->grpc_address(), channels);
  const absl::Time connect_start = absl::Now();
  for (int i = 0; i < agents; ++i) {
    v1::WatchDecisionRequest request;
    request.set_agent_id(absl::StrCat("agent-", i));
    request.mutable_profile()->set_proxy_server("itsp.test");
    request.mutable_profile()->set_proxy_server_redundancy(true);
    fleet.Add(request, RecordSwitch(board));
  }
  if (!Eventually([&] { return board.initial == agents; },
                  absl::Seconds(120))) {
    std::fprintf(stderr, "only %d of %d agents got the initial decision\n",
                 board.initial.load(), agents);
    return 1;
  }
  const absl::Duration connect_time = absl::Now() - connect_start;
  absl::SleepFor(absl::Seconds(1));
  const long rss_after = RssKib(pid);

  const std::string server_pid = std::to_string(pid);
  const double server_cpu_before = CpuSeconds(server_pid);
  const double client_cpu_before = CpuSeconds("self");
  const absl::Time paused = absl::Now();
  (*pbx1)->Pause();
  const bool all =
      Eventually([&] { return board.switched == agents; }, absl::Seconds(60));
  const double server_cpu = CpuSeconds(server_pid) - server_cpu_before;
  const double client_cpu = CpuSeconds("self") - client_cpu_before;
  std::vector<absl::Duration> latencies;
  {
    absl::MutexLock lock(&board.mu);
    for (absl::Time t : board.switch_times) latencies.push_back(t - paused);
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty()
               ? absl::ZeroDuration()
               : latencies[std::min(latencies.size() - 1,
                                    static_cast<size_t>(p * latencies.size()))];
  };
  // The server's own view: its loop's time to hand every agent the change.
  std::string loop_fanout = "n/a";
  for (absl::string_view line : absl::StrSplit((*daemon)->Metrics(), '\n')) {
    if (absl::StartsWith(line, "sipresolver_decision_fanout_seconds_sum"))
      loop_fanout = std::string(line.substr(line.rfind(' ') + 1));
  }
  std::printf(
      "Fan-out: %d agents on %d connections watching one profile; probe "
      "interval "
      "%s, timeout %s (ceiling; learned per endpoint)\n"
      "  all agents had their first decision after %.0f ms\n"
      "  primary paused -> new primary at the agents (from SIGSTOP):\n"
      "    first %.0f ms, p50 %.0f ms, p99 %.0f ms, max %.0f ms%s\n"
      "    fan-out spread (last - first): %.0f ms; server loop time in "
      "fan-outs: %s s\n"
      "    CPU from SIGSTOP until the last agent switched: server %.2f s "
      "(%.1f us per agent), agents (this process) %.2f s\n"
      "  server RSS: %ld KiB idle, %ld KiB with the agents: %.1f KiB per "
      "agent\n",
      agents, channels, interval.c_str(), timeout.c_str(), Ms(connect_time),
      Ms(pct(0)), Ms(pct(0.5)), Ms(pct(0.99)),
      Ms(latencies.empty() ? absl::ZeroDuration() : latencies.back()),
      all ? "" : " (NOT ALL AGENTS SWITCHED)",
      Ms(latencies.empty() ? absl::ZeroDuration()
                           : latencies.back() - latencies.front()),
      loop_fanout.c_str(), server_cpu, server_cpu * 1e6 / std::max(1, agents),
      client_cpu, rss_before, rss_after,
      static_cast<double>(rss_after - rss_before) / std::max(1, agents));
  fleet.CancelAll(absl::Seconds(30));
  return all ? 0 : 1;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  // As in sipresolverd: Debian's Abseil keeps deadlock detection on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Run();
}
