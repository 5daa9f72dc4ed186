// Several replicas: three real sipresolverd processes with the same flags,
// N real agents spread over them by client-side round robin (as through the
// headless Service in deploy/). One replica is SIGKILLed, one stopped with
// SIGTERM, then all three rolled; for each: how long until every agent of
// the lost replica has a decision from another one, whether that decision
// is the one it held (a different one is a hook run and a re-registration),
// and whether `version` keeps growing across the move. Also: do replicas
// that see the same health hand an agent the same decision, and what does a
// move do to an agent that failed over less than S8's interval before.
//
// Run: scripts/bench (README). Flags: --agents=N (default 1000: each real
// agent has two threads and three connections, and at 3000 the fleet itself
// takes most of a 2-core machine, so the times would be the client's),
// --client_health_check (round robin skips replicas not SERVING),
// --caching_dns (TTLs count down), --examples=N (decisions a move changed).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/decision_policy.h"
#include "tests/bench/replica_fleet.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/eventually.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"

ABSL_FLAG(int, agents, 1000, "Agents (each with its own channel).");
ABSL_FLAG(
    bool, client_health_check, false,
    "Agents' round robin skips replicas not SERVING (healthCheckConfig).");
ABSL_FLAG(bool, caching_dns, false,
          "Replicas resolve through a caching dnsmasq (TTL 60 s counting "
          "down, as behind a cluster's caching resolver).");
ABSL_FLAG(int, examples, 0, "Decisions changed by a move to print.");

namespace sipresolver::testing {
namespace {

// deploy/base/deployment.yaml's flags, with probes as in fanout_bench.
const std::vector<std::string> kDaemonFlags = {
    "--probe_allow=127.0.0.1/32",
    "--probe_interval=1s",
    "--probe_edge_interval=250ms",
    "--probe_timeout=500ms",
    "--shutdown_drain_delay=5s",
    "--shutdown_grace=15s",
    "--max_connection_age=30m",
    "--max_connection_age_grace=1m",
    "--keepalive_time=1m",
    "--keepalive_timeout=20s",
    "--min_client_ping_interval=10s",
    "--heartbeat_interval=30s",
    "--max_streams=20000",
    "--max_streams_per_connection=1000",
    "--max_watchers=1000"};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

std::string Machine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "?";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  const double gib = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                     sysconf(_SC_PAGESIZE) / (1 << 30);
  return absl::StrCat(sysconf(_SC_NPROCESSORS_ONLN), " cores, ",
                      static_cast<int>(gib + 0.5), " GiB, ", model);
}

// What one scenario measured, over every replica it took away.
struct Outcome {
  int lost = 0, resumed = 0, changed = 0, servers_changed = 0;
  int version_bad = 0, request_bad = 0, hook_runs = 0;
  int retried = 0, retried_on_lost = 0, relanded = 0;
  size_t max_examples = absl::GetFlag(FLAGS_examples);
  std::vector<std::string> examples;
  std::vector<absl::Duration> from_signal, outage;
};

// Takes away the replica `victim` by `act` (which signals it at `t0`) and
// waits until every agent it served has decided on another stream.
void Measure(ReplicaFleet& fleet, int victim_port,
             const std::function<void()>& act, Outcome& out) {
  const std::vector<int> lost = fleet.AgentsOn(victim_port);
  std::vector<bool> is_lost(fleet.size());
  for (int i : lost) is_lost[i] = true;
  fleet.ClearMoves();
  const int hooks_before = fleet.hook_runs();
  const absl::Time t0 = absl::Now();
  act();
  std::vector<ReplicaFleet::Move> moves;
  Eventually(
      [&] {
        moves = fleet.Moves();
        std::vector<bool> resumed(fleet.size());
        int n = 0;
        for (const ReplicaFleet::Move& m : moves) {
          if (m.to_port == victim_port || !is_lost[m.agent] || resumed[m.agent])
            continue;
          resumed[m.agent] = true;
          ++n;
        }
        return n >= static_cast<int>(lost.size());
      },
      absl::Seconds(90));
  // Late hook runs: a fresh replica completes a decision within a probe.
  absl::SleepFor(absl::Milliseconds(1500));
  moves = fleet.Moves();
  out.lost += lost.size();
  std::vector<bool> was_lost = is_lost;
  for (const ReplicaFleet::Move& m : moves) {
    if (!was_lost[m.agent]) continue;
    if (m.to_port == victim_port) {  // Back on the replica going away.
      ++out.relanded;
      continue;
    }
    was_lost[m.agent] = false;  // First move elsewhere only.
    ++out.resumed;
    out.from_signal.push_back(m.resumed - t0);
    out.outage.push_back(m.resumed - std::max(m.ended, t0));
    out.changed += !m.same_decision;
    out.servers_changed += !m.same_servers;
    out.version_bad += !m.version_increased;
    out.request_bad += !m.sent_last_version;
    out.retried += m.failed_streams > 0;
    out.retried_on_lost += m.failed_on_lost > 0;
    if (!m.same_decision && out.examples.size() < out.max_examples) {
      out.examples.push_back(absl::StrCat(
          "    agent-", m.agent, " :", m.from_port, " -> :", m.to_port,
          "\n      held: ", m.before, "\n      got:  ", m.after, "\n"));
    }
  }
  out.hook_runs += fleet.hook_runs() - hooks_before;
}

// The p-th percentile in ms (p = 1: the maximum); 1e9 when empty.
double Pct(std::vector<absl::Duration> v, double p) {
  if (v.empty()) return 1e9;
  std::sort(v.begin(), v.end());
  return Ms(v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]);
}

std::string Pcts(const std::vector<absl::Duration>& v) {
  return v.empty() ? "none"
                   : absl::StrFormat("p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                                     Pct(v, 0.5), Pct(v, 0.99), Pct(v, 1));
}

std::string Spread(const ReplicaFleet& fleet) {
  std::vector<std::string> parts;
  for (const auto& [port, n] : fleet.PerReplica())
    parts.push_back(port == 0 ? absl::StrCat("none ", n)
                              : absl::StrCat(":", port, " ", n));
  return absl::StrJoin(parts, ", ");
}

void Print(const char* name, const Outcome& o) {
  std::printf(
      "  %s: %d agents lost their replica, %d resumed elsewhere\n"
      "    decision from another replica, from the signal: %s\n"
      "    outage (stream end to decision):                %s\n"
      "    decision changed by the move: %d (primary/secondary %d), hook "
      "runs %d\n"
      "    version not above the last one seen: %d; request without it: %d\n"
      "    agents whose first new stream failed: %d (on the lost replica: "
      "%d); decided on the lost replica again: %d\n",
      name, o.lost, o.resumed, Pcts(o.from_signal).c_str(),
      Pcts(o.outage).c_str(), o.changed, o.servers_changed, o.hook_runs,
      o.version_bad, o.request_bad, o.retried, o.retried_on_lost, o.relanded);
  for (const std::string& e : o.examples) std::printf("%s", e.c_str());
}

// The first decision beyond SEARCHING that `replica` gives agent `id`.
std::optional<v1::Decision> DirectDecision(SipresolverdProcess& replica,
                                           const v1::ItspProfile& profile,
                                           const std::string& id) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::WatchDecisionRequest request;
  *request.mutable_profile() = profile;
  request.set_agent_id(id);
  request.set_spread_mode(v1::SPREAD_MODE_SPREAD);
  auto reader = replica.stub().WatchDecision(&context, request);
  v1::Decision d;
  std::optional<v1::Decision> out;
  while (reader->Read(&d)) {
    if (d.heartbeat() || d.state() == v1::DECISION_STATE_SEARCHING) continue;
    out = d;
    break;
  }
  context.TryCancel();
  reader->Finish();
  return out;
}

// Agents (of the first `n` ids) that two replicas hand different decisions.
int CrossReplicaDifferences(std::vector<SipresolverdProcess*> replicas,
                            const v1::ItspProfile& profile,
                            const ReplicaFleet& fleet, int n) {
  int differ = 0;
  for (int i = 0; i < n; ++i) {
    std::vector<std::optional<v1::Decision>> d;
    for (SipresolverdProcess* r : replicas)
      d.push_back(DirectDecision(*r, profile, fleet.AgentId(i)));
    bool same = d[0].has_value();
    for (size_t k = 1; k < d.size(); ++k)
      same = same && d[k] && client::SameDecision(*d[0], *d[k]);
    differ += !same;
  }
  return differ;
}

int Run() {
  const int agents = absl::GetFlag(FLAGS_agents);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // Progress shows in a log as it runs.
  // pbx1 and pbx2 share priority 10, so agents spread over them by id (the
  // cross-replica check then covers the spreading hash); pbx3 is behind.
  auto pbx1 = KamailioServer::Start(), pbx2 = KamailioServer::Start(),
       pbx3 = KamailioServer::Start();
  if (!pbx1.ok() || !pbx2.ok() || !pbx3.ok()) {
    std::fprintf(stderr, "kamailio failed\n");
    return 1;
  }
  DnsZone zone;
  const bool caching = absl::GetFlag(FLAGS_caching_dns);
  zone.ttl = caching ? 60 : 3600;
  zone.hosts = {{"pbx.test", {"127.0.0.1"}}};
  zone.srv = {{"itsp.test", "pbx.test", (*pbx1)->port(), 10, 10},
              {"itsp.test", "pbx.test", (*pbx2)->port(), 10, 10},
              {"itsp.test", "pbx.test", (*pbx3)->port(), 20, 10}};
  auto dns = DnsmasqServer::Start(zone);
  if (!dns.ok()) return 1;
  std::string resolver = (*dns)->address();
  absl::StatusOr<std::unique_ptr<DnsmasqServer>> cache;
  if (caching) {  // Forwards "test" to the zone above and caches answers.
    DnsZone front;
    front.domain = "front";
    front.extra_lines = {
        absl::StrCat("server=/test/127.0.0.1#", (*dns)->port())};
    cache = DnsmasqServer::Start(front);
    if (!cache.ok()) return 1;
    resolver = (*cache)->address();
  }
  std::vector<std::unique_ptr<SipresolverdProcess>> replicas;
  std::vector<std::string> addresses;
  for (int r = 0; r < 3; ++r) {
    auto d = SipresolverdProcess::Start(resolver, kDaemonFlags);
    if (!d.ok()) {
      std::fprintf(stderr, "%s\n", std::string(d.status().message()).c_str());
      return 1;
    }
    addresses.push_back((*d)->grpc_address());
    replicas.push_back(*std::move(d));
  }
  std::vector<SipresolverdProcess*> all = {replicas[0].get(), replicas[1].get(),
                                           replicas[2].get()};
  v1::ItspProfile profile;
  profile.set_proxy_server("itsp.test");
  profile.set_proxy_server_redundancy(true);
  profile.set_secondary_registration(true);

  // What the headless Service's DNS name resolves to, with round_robin.
  ReplicaFleet fleet(absl::StrCat("ipv4:", absl::StrJoin(addresses, ",")),
                     profile, absl::GetFlag(FLAGS_client_health_check));
  const absl::Time start = absl::Now();
  fleet.Start(agents);
  if (!Eventually([&] { return fleet.decided() == agents; },
                  absl::Seconds(120))) {
    std::fprintf(stderr, "only %d of %d agents decided\n", fleet.decided(),
                 agents);
    return 1;
  }
  std::printf(
      "Replicas: 3 sipresolverd, %d agents (real client::Agent, a channel "
      "each, round_robin over the 3 addresses%s); %s\n"
      "  machine: %s\n  all agents decided after %.0f ms; per replica: %s\n",
      agents,
      absl::GetFlag(FLAGS_client_health_check) ? ", client health checks" : "",
      absl::StrJoin(kDaemonFlags, " ").c_str(), Machine().c_str(),
      Ms(absl::Now() - start), Spread(fleet).c_str());
  const int sample = std::min(agents, 30);
  const int differ = CrossReplicaDifferences(all, profile, fleet, sample);
  std::printf("  same agent id opened on each replica: %d of %d differ\n",
              differ, sample);

  auto port = [&](int r) { return replicas[r]->grpc_port(); };
  auto restart = [&](int r) {
    replicas[r]->process().Wait(absl::Seconds(30));
    if (absl::Status s = replicas[r]->Restart(); !s.ok())
      std::fprintf(stderr, "restart: %s\n", std::string(s.message()).c_str());
  };
  // No registrar stops before the failover scenario: an endpoint a replica
  // marks down meanwhile is a false down. A replica's count is taken just
  // before it is stopped (its counters restart with it) and at the end.
  int downs_of_stopped = 0;
  auto downs_of = [&](int r) {
    return static_cast<int>(MetricValue(
        replicas[r]->Metrics(),
        "sipresolver_endpoint_transitions_total{from=\"healthy\",to=\""
        "unhealthy\"}"));
  };
  auto stop = [&](int r, int signal) {
    downs_of_stopped += downs_of(r);
    replicas[r]->process().Signal(signal);
  };
  Outcome killed, stopped, rolled;
  Measure(
      fleet, port(0), [&] { stop(0, SIGKILL); }, killed);
  Print("SIGKILL of one replica", killed);
  restart(0);
  Measure(
      fleet, port(1), [&] { stop(1, SIGTERM); }, stopped);
  Print("SIGTERM of one replica (drain 5 s)", stopped);
  restart(1);
  for (int r = 0; r < 3; ++r) {
    Measure(
        fleet, port(r), [&] { stop(r, SIGTERM); }, rolled);
    restart(r);
  }
  Print("rolling restart of all three (SIGTERM, restart, next)", rolled);
  std::printf("  per replica after the roll: %s\n", Spread(fleet).c_str());
  std::printf(
      "  endpoints marked down by the replicas so far (no registrar was "
      "stopped: "
      "false downs): %d\n",
      downs_of_stopped + downs_of(0) + downs_of(1) + downs_of(2));

  // S8 keeps an agent that failed over on its secondary until its fallback
  // tick (60 s); a replica it moves to meanwhile knows nothing of that.
  (*pbx1)->Pause();
  const std::string p1 = std::to_string((*pbx1)->port());
  auto off_pbx1 = [&] {
    for (int i = 0; i < fleet.size(); ++i) {
      auto d = fleet.Held(i);
      if (!d || std::to_string(d->primary().port()) == p1 ||
          std::to_string(d->secondary().port()) == p1)
        return false;
    }
    return true;
  };
  const bool failed_over = Eventually(off_pbx1, absl::Seconds(30));
  (*pbx1)->Resume();
  absl::SleepFor(absl::Seconds(5));  // Every replica sees pbx1 healthy.
  Outcome after_failover;
  std::map<int, int> spread = fleet.PerReplica();
  int busiest = 0;
  for (int r = 1; r < 3; ++r)
    if (spread[port(r)] > spread[port(busiest)]) busiest = r;
  Measure(
      fleet, port(busiest),
      [&] { replicas[busiest]->process().Signal(SIGKILL); }, after_failover);
  Print(failed_over ? "SIGKILL within 60 s of a failover and recovery"
                    : "SIGKILL after a failover (NOT ALL AGENTS FAILED OVER)",
        after_failover);
  // Replicas that started at different times (the one killed last is
  // restarted now) with the same health.
  restart(busiest);
  const int differ_late = CrossReplicaDifferences(all, profile, fleet, sample);
  std::printf(
      "  same agent id on each replica after restarts: %d of %d differ\n",
      differ_late, sample);
  std::printf("  version decreasing within a stream: %d\n",
              fleet.version_regressions());

  const bool resume_ok =
      killed.resumed == killed.lost && stopped.resumed == stopped.lost &&
      rolled.resumed == rolled.lost && Pct(killed.outage, 0.99) <= 2000 &&
      Pct(stopped.outage, 0.99) <= 2000 && Pct(rolled.outage, 0.99) <= 2000;
  const bool unchanged = killed.changed + stopped.changed + rolled.changed +
                             killed.hook_runs + stopped.hook_runs +
                             rolled.hook_runs ==
                         0;
  const bool version_ok = killed.version_bad + stopped.version_bad +
                              rolled.version_bad + after_failover.version_bad +
                              fleet.version_regressions() ==
                          0;
  std::printf(
      "  %s: every agent of a lost replica resumes within 2 s (p99 outage)\n"
      "  %s: no decision changes because an agent moved (steady health)\n"
      "  %s: no decision changes because an agent moved (after failover)\n"
      "  %s: two replicas hand an agent the same decision\n"
      "  %s: version grows across replicas\n",
      resume_ok ? "PASS" : "FAIL", unchanged ? "PASS" : "FAIL",
      after_failover.changed == 0 ? "PASS" : "FAIL",
      differ + differ_late == 0 ? "PASS" : "FAIL",
      version_ok ? "PASS" : "FAIL");
  fleet.Stop();
  return 0;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Run();
}
