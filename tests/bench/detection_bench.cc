// Detection and false downs, sipresolver beside Kamailio's dispatcher, both
// at one probe per second per endpoint, in one run on loopback (issue 13,
// target 3).
//
// Set-up: two Kamailio registrars. R1 is probed directly by both. R2 sits
// behind a LossyUdpRelay that drops each datagram, either way, with
// probability --loss (seeded); both probe it through the relay. The service
// is the real sipresolverd (flags printed; --probe_interval=1s, the rest
// its defaults unless --sipresolverd_flags adds some), made to probe R1 and
// the relay by an agent watching each as an IP literal. The peer is Kamailio's
// dispatcher tuned as issue 13 measured it (KamailioDispatcher). Each
// side's own log says when it decided (sipresolverd's "endpoint health
// changed" line, ms; Kamailio's event_route with $TV(Sn)), so polling the
// logs adds nothing to the figures.
//
// 1. Detection: --trials times, R1 is SIGSTOPped at a random phase (2 s +
//    uniform 0-1 s after both saw it healthy); detection = the side's "down"
//    time minus the SIGSTOP time. Then SIGCONT after a random 0-1 s more;
//    recovery = its "up" time minus the SIGCONT time. Both sides must be up
//    again before the next trial. With a --probe_interval above 1 s the
//    phase is uniform over that interval instead.
// 2. Loss: from the start of the trials until --loss_duration has passed,
//    every "down" of the relayed R2 is a false down (R2 is never stopped).
//    The relay's counts give each side's probe cost (datagrams sent to R2
//    per second, retransmissions and follow-ups included).
//
// Run: scripts/bench (DETECTION_BENCH_ARGS). Alone: detection_bench
// [--trials=20] [--loss=0.02] [--loss_duration=10m] [--seed=1]
// [--sipresolverd_flags=--probe_min_rto=50ms,...]. Stops by itself.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "tests/bench/kamailio_dispatcher.h"
#include "tests/bench/lossy_udp_relay.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"

ABSL_FLAG(int, trials, 20, "SIGSTOP/SIGCONT trials of R1.");
ABSL_FLAG(double, loss, 0.02, "Drop probability of each relayed datagram.");
ABSL_FLAG(absl::Duration, loss_duration, absl::Minutes(10),
          "How long R2 is probed through the lossy relay.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the relay's losses and the phases.");
ABSL_FLAG(std::string, probe_interval, "1s", "sipresolverd --probe_interval.");
ABSL_FLAG(std::vector<std::string>, sipresolverd_flags, {},
          "More sipresolverd flags, comma-separated (e.g. the old tuning: "
          "--probe_min_rto=1s,--probe_timeout=1s,--probe_unhealthy_threshold=1"
          ").");

namespace sipresolver::testing {
namespace {

constexpr absl::Duration kEventTimeout = absl::Seconds(15);

// sipresolverd's JSON log: health changes of 127.0.0.1 endpoints.
class ServiceEvents {
 public:
  explicit ServiceEvents(SipresolverdProcess& d) : d_(d) {}
  std::vector<DestinationEvent> NewEvents() {
    const std::string out = d_.process().Output();
    const size_t end = out.rfind('\n');
    if (end == std::string::npos || end + 1 <= read_) return {};
    const absl::string_view text =
        absl::string_view(out).substr(read_, end + 1 - read_);
    read_ = end + 1;
    std::vector<DestinationEvent> events;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::StrContains(line, "\"endpoint health changed\"")) continue;
      DestinationEvent e;
      e.up = absl::StrContains(line, "\"to\":\"healthy\"");
      if (!e.up && !absl::StrContains(line, "\"to\":\"unhealthy\"")) continue;
      const std::string when(Field(line, "time"));
      const absl::string_view endpoint = Field(line, "endpoint");
      uint32_t port = 0;
      std::string error;
      if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", when, &e.time, &error) ||
          !absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port)) {
        continue;
      }
      e.port = static_cast<uint16_t>(port);
      events.push_back(e);
    }
    return events;
  }

 private:
  static absl::string_view Field(absl::string_view line,
                                 absl::string_view key) {
    const std::string tag = absl::StrCat("\"", key, "\":\"");
    const size_t at = line.find(tag);
    if (at == absl::string_view::npos) return "";
    const size_t from = at + tag.size();
    return line.substr(from, line.find('"', from) - from);
  }
  SipresolverdProcess& d_;
  size_t read_ = 0;
};

// Both sides' events, polled every 5 ms.
struct Sides {
  ServiceEvents* service;
  KamailioDispatcher* kamailio;
  // Per side (0 service, 1 Kamailio): every event so far.
  std::vector<DestinationEvent> events[2];

  void Poll() {
    for (auto& e : service->NewEvents()) events[0].push_back(e);
    for (auto& e : kamailio->NewEvents()) events[1].push_back(e);
  }
  // The first event of `side` for `port` with `up`, at or after `since`.
  // sipresolverd's log has milliseconds: an event within the millisecond
  // of `since` may show as just before it, so it counts from then.
  std::optional<absl::Time> Find(int side, uint16_t port, bool up,
                                 absl::Time since) const {
    const absl::Time from =
        side == 0 ? absl::FromUnixMillis(absl::ToUnixMillis(since)) : since;
    for (const DestinationEvent& e : events[side]) {
      if (e.port == port && e.up == up && e.time >= from) {
        return std::max(e.time, since);
      }
    }
    return std::nullopt;
  }
  int Count(int side, uint16_t port, bool up, absl::Time since) const {
    int n = 0;
    for (const DestinationEvent& e : events[side])
      n += e.port == port && e.up == up && e.time >= since;
    return n;
  }
  // Waits until both sides have the event; their delays from `since`.
  std::optional<absl::Duration> WaitBoth(uint16_t port, bool up,
                                         absl::Time since,
                                         absl::Duration out[2]) {
    const absl::Time deadline = absl::Now() + kEventTimeout;
    while (absl::Now() < deadline) {
      Poll();
      auto a = Find(0, port, up, since), b = Find(1, port, up, since);
      if (a && b) {
        out[0] = *a - since;
        out[1] = *b - since;
        return out[0];
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    auto a = Find(0, port, up, since), b = Find(1, port, up, since);
    std::printf("  no %s from %s\n", up ? "recovery" : "detection",
                !a && !b ? "either side"
                : !a     ? "sipresolver"
                         : "Kamailio");
    return std::nullopt;
  }
};

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// Nearest-rank percentile of sorted samples.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void PrintRow(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) {
    std::printf("  %-34s no samples\n", what);
    return;
  }
  std::printf("  %-34s %6.3f %6.3f %6.3f %6.3f   (n=%zu)\n", what, v.front(),
              Percentile(v, 0.5), Percentile(v, 0.99), v.back(), v.size());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return Percentile(v, 0.5);
}

int Run() {
  auto r1 = KamailioServer::Start();
  auto r2 = KamailioServer::Start();
  if (!r1.ok() || !r2.ok()) {
    std::fprintf(stderr, "registrars: %s %s\n", r1.status().ToString().c_str(),
                 r2.status().ToString().c_str());
    return 1;
  }
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  auto relay =
      LossyUdpRelay::Start((*r2)->port(), absl::GetFlag(FLAGS_loss), seed);
  if (!relay.ok()) {
    std::fprintf(stderr, "relay: %s\n", relay.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> flags = {
      "--probe_allow=127.0.0.1/32", "--probe_idle_timeout=24h",
      "--log_format=json",
      absl::StrCat("--probe_interval=", absl::GetFlag(FLAGS_probe_interval))};
  for (const std::string& f : absl::GetFlag(FLAGS_sipresolverd_flags)) {
    if (!f.empty()) flags.push_back(f);
  }
  // IP literals only: the DNS server is never asked.
  auto service = SipresolverdProcess::Start("127.0.0.1:9", flags);
  if (!service.ok()) {
    std::fprintf(stderr, "sipresolverd: %s\n",
                 service.status().ToString().c_str());
    return 1;
  }
  // An agent watching each as an IP literal: the service probes what
  // watchers need (a Resolve shows health but starts no probe).
  std::vector<std::unique_ptr<DecisionWatcher>> watchers;
  for (uint16_t port : {(*r1)->port(), (*relay)->port()}) {
    v1::WatchDecisionRequest request =
        WatchRequest(absl::StrCat("detection-bench-", port), "127.0.0.1",
                     /*redundancy=*/false);
    request.mutable_profile()->set_proxy_server_port(port);
    watchers.push_back(
        std::make_unique<DecisionWatcher>((*service)->stub(), request));
    if (!watchers.back()->WaitFor([](const v1::Decision&) { return true; },
                                  absl::Seconds(5))) {
      std::fprintf(stderr, "WatchDecision of 127.0.0.1:%u: no decision\n",
                   port);
      return 1;
    }
  }
  auto kamailio = KamailioDispatcher::Start({(*r1)->port(), (*relay)->port()});
  if (!kamailio.ok()) {
    std::fprintf(stderr, "dispatcher: %s\n",
                 kamailio.status().ToString().c_str());
    return 1;
  }
  ServiceEvents service_events(**service);
  Sides sides{&service_events, kamailio->get(), {}};
  // Kamailio logs no "up" for a destination that starts active: only the
  // service's first verdicts are awaited.
  for (const absl::Time deadline = absl::Now() + kEventTimeout;
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(5))) {
    sides.Poll();
    if (sides.Find(0, (*r1)->port(), true, absl::InfinitePast()) &&
        sides.Find(0, (*relay)->port(), true, absl::InfinitePast())) {
      break;
    }
  }
  absl::SleepFor(absl::Seconds(3));  // RTOs learn; both settle.

  std::printf("detection_bench: sipresolverd %s\n",
              absl::StrJoin(flags, " ").c_str());
  std::printf(
      "  vs Kamailio 5.6 dispatcher: ds_ping_interval=1 ds_probing_threshold=1 "
      "ds_inactive_threshold=1 fr_timer=1000 (OPTIONS)\n");
  std::printf("  loss %.3f each way on R2's relay, seed %llu\n",
              absl::GetFlag(FLAGS_loss), static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  const absl::Time loss_start = absl::Now();
  const int dispatcher_port = (*kamailio)->port();
  const LossyUdpRelay::Counts service_before =
      (*relay)->CountsExcept(dispatcher_port);
  const LossyUdpRelay::Counts kamailio_before =
      (*relay)->CountsOf(dispatcher_port);

  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> phase(0, 1);
  // A random phase of the slower schedule: uniform over a whole interval.
  absl::Duration interval = absl::Seconds(1);
  if (absl::Duration i;
      absl::ParseDuration(absl::GetFlag(FLAGS_probe_interval), &i)) {
    interval = std::max(interval, i);
  }
  std::vector<double> detect[2], recover[2];
  int missed = 0;
  const int trials = absl::GetFlag(FLAGS_trials);
  for (int i = 0; i < trials; ++i) {
    absl::SleepFor(absl::Seconds(2) + interval * phase(random));
    const absl::Time stopped = absl::Now();
    (*r1)->Pause();
    absl::Duration d[2], r[2];
    const bool seen =
        sides.WaitBoth((*r1)->port(), false, stopped, d).has_value();
    absl::SleepFor(absl::Seconds(phase(random)));
    const absl::Time resumed = absl::Now();
    (*r1)->Resume();
    const bool back =
        sides.WaitBoth((*r1)->port(), true, resumed, r).has_value();
    if (!seen || !back) {
      ++missed;
      std::printf("  trial %d: a side saw no %s within %s\n", i + 1,
                  seen ? "recovery" : "down",
                  absl::FormatDuration(kEventTimeout).c_str());
      continue;
    }
    for (int side = 0; side < 2; ++side) {
      detect[side].push_back(Seconds(d[side]));
      recover[side].push_back(Seconds(r[side]));
    }
    std::printf(
        "  trial %2d: detection %.3f s / %.3f s, recovery %.3f s / "
        "%.3f s (sipresolver / Kamailio)\n",
        i + 1, Seconds(d[0]), Seconds(d[1]), Seconds(r[0]), Seconds(r[1]));
    std::fflush(stdout);
  }

  const absl::Duration loss_duration = absl::GetFlag(FLAGS_loss_duration);
  while (absl::Now() - loss_start < loss_duration) {
    absl::SleepFor(
        std::min(absl::Seconds(1), loss_duration - (absl::Now() - loss_start)));
    sides.Poll();
  }
  sides.Poll();
  const double elapsed = Seconds(absl::Now() - loss_start);
  const uint16_t lossy = (*relay)->port();

  std::printf(
      "\nDetection (s), SIGSTOP of R1 at a random phase: min "
      "median p99 max\n");
  PrintRow("sipresolver", detect[0]);
  PrintRow("Kamailio dispatcher", detect[1]);
  std::printf("Recovery (s), SIGCONT to healthy:\n");
  PrintRow("sipresolver", recover[0]);
  PrintRow("Kamailio dispatcher", recover[1]);
  std::printf("Median detection ratio sipresolver / Kamailio: %.2f\n",
              Median(detect[0]) / Median(detect[1]));
  if (missed > 0) std::printf("Trials without an event: %d\n", missed);

  const LossyUdpRelay::Counts s = (*relay)->CountsExcept(dispatcher_port);
  const LossyUdpRelay::Counts k = (*relay)->CountsOf(dispatcher_port);
  auto sent = [&](const LossyUdpRelay::Counts& now,
                  const LossyUdpRelay::Counts& before) {
    return static_cast<double>(now.forwarded + now.dropped - before.forwarded -
                               before.dropped) /
           elapsed;
  };
  std::printf(
      "\nLoss phase: %.0f s at %.1f%% loss each way through the "
      "relay\n",
      elapsed, 100 * absl::GetFlag(FLAGS_loss));
  std::printf("  %-22s false downs %d  requests/s to R2 %.3f\n", "sipresolver",
              sides.Count(0, lossy, false, loss_start),
              sent(s, service_before));
  std::printf("  %-22s false downs %d  requests/s to R2 %.3f\n",
              "Kamailio dispatcher", sides.Count(1, lossy, false, loss_start),
              sent(k, kamailio_before));
  std::printf("  relay: %llu dropped of %llu requests, %llu of %llu replies\n",
              static_cast<unsigned long long>(s.dropped + k.dropped),
              static_cast<unsigned long long>(s.dropped + k.dropped +
                                              s.forwarded + k.forwarded),
              static_cast<unsigned long long>(s.dropped_back + k.dropped_back),
              static_cast<unsigned long long>(s.dropped_back + k.dropped_back +
                                              s.returned + k.returned));
  return missed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sipresolver::testing::Run();
}
