// Probe engine benchmarks against a real Kamailio registrar on loopback.
//
// 1. Throughput: SipProber on one EventLoop thread keeps N probes in flight
//    (REGISTER without credentials, answered by Kamailio's stateless 401
//    challenge: the probe every endpoint without configured credentials
//    gets) for a fixed time and counts the probes completed. Reported per
//    N: probes/s, the loop thread's CPU time per probe (CLOCK_THREAD_
//    CPUTIME_ID, read on the loop thread at both ends of the window), how
//    busy the loop thread was, Kamailio's CPU time per probe (utime+stime of
//    its processes from /proc), and the one-core ceiling 1 / (loop CPU per
//    probe): what the loop could do if the responder kept up. The ratio is
//    against a bare blocking UDP ping-pong of the same REGISTER bytes with
//    the same Kamailio, measured in the same run: what the engine (a socket
//    per probe, ids, request building, parsing, transaction timers) costs on
//    top of the kernel round trip. With 2+ cores the loop thread (and the
//    ping-pong thread) is pinned to CPU 0 and Kamailio to the last CPU, so
//    "one core" is literal and the two do not share one.
//
// 2. Detection time: a HealthTracker (thresholds 2/2, jitter 10%) probes the
//    registrar with interval I, edge interval E and probe timeout T. Once it
//    is HEALTHY, the registrar is SIGSTOPped (KamailioServer::Pause) at a
//    random phase of the probe schedule and the time until the tracker's
//    transition to UNHEALTHY is taken (a HealthObserver stamps it on the
//    loop thread, so polling does not add to it); then SIGCONT and wait for
//    HEALTHY again. Printed: min/median/max, as multiples of I, next to the
//    analytic figure: W + 2T + E, where W (time from the stop to the next
//    probe's start) is uniform over one jittered interval. Nothing is pinned
//    here; the CPU the rest of the host used meanwhile is printed, since a
//    busy host makes timers fire late.
//
// Run: scripts/bench (see README). Alone: probe_bench [--duration=3s]
// [--trials=10].
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/core/event_loop.h"
#include "lib/health/health_tracker.h"
#include "lib/sip/ids.h"
#include "lib/sip/message.h"
#include "lib/sip/sip_prober.h"
#include "tests/support/kamailio_server.h"

namespace sipresolver::testing {
namespace {

using health::HealthState;
using sip::ProbeResult;

constexpr char kDomain[] = "sipresolver.test";

// ---------------------------------------------------------------- helpers --

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// utime + stime of one process, from /proc/PID/stat (fields 14 and 15).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // The command name may hold spaces.
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  // After ")": state is field 3, so utime (14) is the 12th from here.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) absl::SimpleAtoi(field, &utime);
    if (i == 15) absl::SimpleAtoi(field, &stime);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

double GroupCpuSeconds(const std::vector<pid_t>& pids) {
  double total = 0;
  for (pid_t pid : pids) total += ProcessCpuSeconds(pid);
  return total;
}

// CPU time (all CPUs) spent on anything but idle and iowait, from /proc/stat.
double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};  // user nice system idle iowait irq softirq steal
  in >> cpu;
  for (uint64_t& x : v) in >> x;
  const uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / sysconf(_SC_CLK_TCK);
}

bool PinTo(pid_t pid, int cpu) {  // pid 0: the calling thread.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(pid, sizeof(set), &set) == 0;
}

void Unpin(pid_t pid, int cores) {  // Any CPU again.
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu = 0; cpu < cores; ++cpu) CPU_SET(cpu, &set);
  sched_setaffinity(pid, sizeof(set), &set);
}

// CPU time of this process (all threads).
double SelfCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "model name")) {
      return std::string(
          absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
    }
  }
  return "unknown CPU";
}

std::string Micros(double seconds) {
  return absl::StrFormat("%.1f us", seconds * 1e6);
}

// -------------------------------------------------------------- throughput --

struct ThroughputRow {
  std::string label;
  int in_flight = 0;
  int64_t completed = 0;
  int64_t unexpected = 0;  // Not a 401 response.
  std::string first_unexpected;
  double wall = 0, loop_cpu = 0, responder_cpu = 0;
  double machine_busy = 0;  // All CPUs, everything; for the "rest" column.

  // CPU used by everything else (other processes, interrupts, steal), in
  // cores: a benchmark on a busy machine shows it here.
  double rest_cores() const {
    return std::max(0.0, machine_busy - loop_cpu - responder_cpu) / wall;
  }

  double rate() const { return completed / wall; }
  double cpu_per_probe() const { return loop_cpu / completed; }
  double responder_per_probe() const { return responder_cpu / completed; }
};

// Keeps `in_flight` probes running on the loop; measures a window after a
// warm-up. All state is touched on the loop thread only.
class ThroughputDriver {
 public:
  ThroughputDriver(EventLoop& loop, sip::SipProber& prober,
                   const KamailioServer& kamailio)
      : loop_(loop), prober_(prober), kamailio_(kamailio) {
    request_.endpoint = {"127.0.0.1", kamailio.port(), Transport::kUdp};
    request_.domain = kDomain;
  }

  ThroughputRow Run(int in_flight, absl::Duration warmup,
                    absl::Duration window) {
    row_ = ThroughputRow();
    row_.in_flight = in_flight;
    row_.label = absl::StrCat(in_flight);
    pids_ = kamailio_.ProcessIds();
    std::promise<void> done;
    done_ = &done;
    running_ = true;
    counting_ = false;
    loop_.Post([this, in_flight, warmup, window] {
      for (int i = 0; i < in_flight; ++i) Launch();
      warmup_timer_ = loop_.After(warmup, [this, window] {
        // /proc first, then our clock: the reads stay outside the window.
        machine_start_ = MachineBusySeconds();
        responder_start_ = GroupCpuSeconds(pids_);
        cpu_start_ = ThreadCpuSeconds();
        wall_start_ = absl::Now();
        counting_ = true;
        window_timer_ = loop_.After(window, [this] {
          row_.loop_cpu = ThreadCpuSeconds() - cpu_start_;
          row_.wall = absl::ToDoubleSeconds(absl::Now() - wall_start_);
          counting_ = false;
          row_.responder_cpu = GroupCpuSeconds(pids_) - responder_start_;
          row_.machine_busy = MachineBusySeconds() - machine_start_;
          running_ = false;  // Let the probes in flight drain.
          MaybeDone();
        });
      });
    });
    done.get_future().wait();
    loop_.RunSync([this] {
      warmup_timer_.reset();
      window_timer_.reset();
    });
    return row_;
  }

 private:
  void Launch() {
    ++outstanding_;
    prober_.Probe(request_, [this](ProbeResult r) {
      --outstanding_;
      if (counting_) {
        ++row_.completed;
        if (r.outcome != ProbeResult::Outcome::kResponse ||
            r.status_code != 401) {
          if (row_.unexpected++ == 0) {
            row_.first_unexpected =
                absl::StrCat("code ", r.status_code, " ", r.error);
          }
        }
      }
      if (running_) {
        Launch();
      } else {
        MaybeDone();
      }
    });
  }

  void MaybeDone() {
    if (!running_ && outstanding_ == 0 && done_ != nullptr) {
      done_->set_value();
      done_ = nullptr;
    }
  }

  EventLoop& loop_;
  sip::SipProber& prober_;
  const KamailioServer& kamailio_;
  sip::ProbeRequest request_;
  std::vector<pid_t> pids_;
  std::promise<void>* done_ = nullptr;
  bool running_ = false, counting_ = false;
  int outstanding_ = 0;
  ThroughputRow row_;
  double cpu_start_ = 0, responder_start_ = 0, machine_start_ = 0;
  absl::Time wall_start_;
  std::unique_ptr<Timer> warmup_timer_, window_timer_;
};

// The floor: one blocking connected UDP socket sending the same REGISTER
// bytes the prober would (one fixed message; Kamailio's 401 is stateless)
// and reading each reply, on a thread pinned like the loop thread.
ThroughputRow BarePingPong(const KamailioServer& kamailio,
                           absl::Duration warmup, absl::Duration window,
                           int cpu) {
  ThroughputRow row;
  row.label = "bare";
  row.in_flight = 1;
  std::thread thread([&] {
    if (cpu >= 0) PinTo(0, cpu);
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kamailio.port());
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      row.first_unexpected = "connect failed";
      close(fd);
      return;
    }
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    RealRandom random;
    sip::RequestParams p;
    p.method = "REGISTER";
    p.domain = kDomain;
    p.transport = "UDP";
    p.local_host = "127.0.0.1";
    p.local_port = ntohs(local.sin_port);
    p.user = "sipresolver-probe";
    p.call_id = sip::NewCallId(random, "sipresolver");
    p.from_tag = sip::NewTag(random);
    p.branch = sip::NewBranch(random);
    p.expires = 60;
    p.user_agent = "sipresolver-probe/1";
    const std::string message = *sip::BuildRequest(p);
    const std::vector<pid_t> pids = kamailio.ProcessIds();
    char buffer[65536];
    auto exchange = [&]() -> bool {
      if (send(fd, message.data(), message.size(), 0) < 0) return false;
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      return n > 12 &&
             absl::StartsWith(absl::string_view(buffer, n), "SIP/2.0 401");
    };
    const absl::Time warm_end = absl::Now() + warmup;
    while (absl::Now() < warm_end) exchange();
    const double machine_start = MachineBusySeconds();
    const double responder_start = GroupCpuSeconds(pids);
    const double cpu_start = ThreadCpuSeconds();
    const absl::Time start = absl::Now();
    const absl::Time end = start + window;
    absl::Time now = start;
    while (now < end) {
      for (int i = 0; i < 64; ++i) {  // Read the clock less often.
        ++row.completed;
        if (!exchange() && row.unexpected++ == 0) {
          row.first_unexpected = "no 401 reply";
        }
      }
      now = absl::Now();
    }
    row.loop_cpu = ThreadCpuSeconds() - cpu_start;
    row.wall = absl::ToDoubleSeconds(now - start);
    row.responder_cpu = GroupCpuSeconds(pids) - responder_start;
    row.machine_busy = MachineBusySeconds() - machine_start;
    close(fd);
  });
  thread.join();
  return row;
}

// --------------------------------------------------------------- detection --

// Stamps every state transition on the loop thread, as it happens.
class TransitionRecorder : public health::HealthObserver {
 public:
  void OnTransition(HealthState from, HealthState to) override {
    absl::MutexLock lock(&mu_);
    transitions_.push_back({absl::Now(), to});
  }
  // The first transition to `to` stamped at or after `after`.
  std::optional<absl::Time> WaitFor(HealthState to, absl::Time after,
                                    absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        for (const auto& [when, state] : transitions_) {
          if (state == to && when >= after) return when;
        }
      }
      if (absl::Now() > deadline) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<absl::Time, HealthState>> transitions_
      ABSL_GUARDED_BY(mu_);
};

struct DetectionConfig {
  absl::Duration interval, edge, timeout;
};

struct DetectionResult {
  DetectionConfig config;
  std::vector<absl::Duration> samples;
  absl::Duration max_pause_call;  // How long Pause() took to stop the group.
  double rest_cores = 0;  // CPU the rest of the host used meanwhile, in cores.
  std::string error;
};

constexpr double kJitter = 0.1;
constexpr int kUnhealthyThreshold = 2;

DetectionResult MeasureDetection(EventLoop& loop, KamailioServer& kamailio,
                                 const DetectionConfig& config, int trials,
                                 std::mt19937_64& rng) {
  DetectionResult result;
  result.config = config;
  RealClock clock;
  RealRandom random;
  sip::ProberOptions prober_options;  // T1 500 ms, as the daemon.
  prober_options.timeout = config.timeout;
  TransitionRecorder recorder;
  std::unique_ptr<sip::SipProber> prober;
  std::unique_ptr<health::HealthTracker> tracker;
  const sip::Endpoint endpoint{"127.0.0.1", kamailio.port(), Transport::kUdp};
  health::HealthOptions options;
  options.intervals = {config.interval, config.edge, kJitter};
  options.thresholds = {2, kUnhealthyThreshold};
  // A fixed timeout T (RTO floor = ceiling): the model above. The learned
  // RTO is measured against Kamailio by detection_bench.
  options.rto = {config.timeout, config.timeout};
  const std::vector<pid_t> pids = kamailio.ProcessIds();
  const double machine_start = MachineBusySeconds();
  const double ours_start = SelfCpuSeconds() + GroupCpuSeconds(pids);
  const absl::Time created = absl::Now();
  loop.RunSync([&] {
    prober = std::make_unique<sip::SipProber>(loop.io_context(), loop, clock,
                                              random, prober_options);
    tracker = std::make_unique<health::HealthTracker>(
        *prober, loop, clock, random,
        *health::ProbePolicy::Parse("127.0.0.1/32"),
        *health::RateLimiter::Create(1000, 1000, clock.Now()),
        health::CredentialStore(), options, &recorder);
    const absl::Status touched = tracker->Touch(endpoint, kDomain);
    if (!touched.ok()) result.error = touched.ToString();
  });
  auto state = [&] {
    health::Counters c;
    loop.RunSync([&] { c = tracker->Get(endpoint)->counters; });
    return c;
  };
  std::optional<absl::Time> healthy_at =
      result.error.empty()
          ? recorder.WaitFor(HealthState::kHealthy, created, absl::Seconds(10))
          : std::nullopt;
  if (!healthy_at && result.error.empty())
    result.error = "never became HEALTHY";
  // Far beyond the worst case: a stuck trial fails instead of hanging.
  const absl::Duration bound =
      2 * (config.interval + kUnhealthyThreshold * config.timeout +
           config.edge) +
      absl::Seconds(5);
  for (int i = 0; i < trials && result.error.empty(); ++i) {
    // A random point of the schedule: between one and two intervals after
    // the last change, and only once no failure is pending.
    std::uniform_real_distribution<double> phase(1.0, 2.0);
    absl::SleepFor(*healthy_at + phase(rng) * config.interval - absl::Now());
    const health::Counters c = state();
    if (c.state != HealthState::kHealthy || c.consecutive_failures != 0) {
      --i;  // A late answer from the previous stop; draw again.
      healthy_at = absl::Now();
      continue;
    }
    const absl::Time stopped = absl::Now();
    kamailio.Pause();
    result.max_pause_call =
        std::max(result.max_pause_call, absl::Now() - stopped);
    std::optional<absl::Time> down =
        recorder.WaitFor(HealthState::kUnhealthy, stopped, bound);
    kamailio.Resume();
    if (!down) {
      result.error = absl::StrCat("trial ", i + 1, ": not UNHEALTHY within ",
                                  absl::FormatDuration(bound));
      break;
    }
    result.samples.push_back(*down - stopped);
    healthy_at = recorder.WaitFor(HealthState::kHealthy, *down, bound);
    if (!healthy_at)
      result.error = absl::StrCat("trial ", i + 1, ": no recovery");
  }
  loop.RunSync([&] {
    tracker.reset();
    prober.reset();
  });
  const double ours = SelfCpuSeconds() + GroupCpuSeconds(pids) - ours_start;
  result.rest_cores =
      std::max(0.0, MachineBusySeconds() - machine_start - ours) /
      absl::ToDoubleSeconds(absl::Now() - created);
  return result;
}

void PrintDetection(const DetectionResult& r, int cores) {
  const DetectionConfig& c = r.config;
  const double i = absl::ToDoubleSeconds(c.interval);
  const double e = absl::ToDoubleSeconds(c.edge);
  const double t = absl::ToDoubleSeconds(c.timeout);
  const int h = kUnhealthyThreshold;
  // W: residual time to the next probe start, the gap between starts being
  // I*(1 +/- j) uniform (a probe answered on loopback takes ~0.1 ms):
  // E[W] = E[G^2] / (2 E[G]) = I (1 + j^2/3) / 2.
  const double expected =
      i * (1 + kJitter * kJitter / 3) / 2 + h * t + (h - 1) * e;
  const double lo = h * t + (h - 1) * e * (1 - kJitter);
  const double hi = i * (1 + kJitter) + h * t + (h - 1) * e * (1 + kJitter);
  std::printf(
      "\n  interval I=%s, edge E=%s, timeout T=%s, thresholds 2/%d, jitter "
      "%.0f%%\n",
      absl::FormatDuration(c.interval).c_str(),
      absl::FormatDuration(c.edge).c_str(),
      absl::FormatDuration(c.timeout).c_str(), h, kJitter * 100);
  if (!r.error.empty()) std::printf("    ERROR: %s\n", r.error.c_str());
  if (r.samples.empty()) return;
  std::vector<double> s;
  for (absl::Duration d : r.samples) s.push_back(absl::ToDoubleSeconds(d));
  std::sort(s.begin(), s.end());
  const double median = s.size() % 2
                            ? s[s.size() / 2]
                            : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
  double mean = 0;
  for (double x : s) mean += x;
  mean /= s.size();
  std::printf(
      "    measured (%zu trials): min %.3f s (%.2f I)  median %.3f s (%.2f I)  "
      "max %.3f s (%.2f I)  mean %.3f s (%.2f I)\n",
      s.size(), s.front(), s.front() / i, median, median / i, s.back(),
      s.back() / i, mean, mean / i);
  std::printf(
      "    analytic: W + %dT + %dE, W uniform over one interval: mean %.3f s "
      "(%.2f I), range %.3f-%.3f s (%.2f-%.2f I)\n",
      h, h - 1, expected, expected / i, lo, hi, lo / i, hi / i);
  std::string all;
  for (absl::Duration d : r.samples) {
    absl::StrAppend(&all, absl::StrFormat(" %.3f", absl::ToDoubleSeconds(d)));
  }
  std::printf("    trials (s, in order):%s\n", all.c_str());
  std::printf(
      "    Pause() (SIGSTOP to the group, until all stopped) took at most %s;\n"
      "    rest of host meanwhile: %.2f cores%s\n",
      absl::FormatDuration(
          absl::Trunc(r.max_pause_call, absl::Microseconds(10)))
          .c_str(),
      r.rest_cores,
      r.rest_cores > cores - 1
          ? " (less than a core left free: timers may fire late; rerun)"
          : "");
}

// -------------------------------------------------------------------- main --

struct Args {
  absl::Duration duration = absl::Seconds(3);
  int trials = 10;
};

bool ParseArgs(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--duration=")) {
      if (!absl::ParseDuration(a, &args.duration) ||
          args.duration <= absl::ZeroDuration()) {
        return false;
      }
    } else if (absl::ConsumePrefix(&a, "--trials=")) {
      if (!absl::SimpleAtoi(a, &args.trials) || args.trials < 1) return false;
    } else {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::fprintf(stderr, "usage: %s [--duration=3s] [--trials=10]\n", argv[0]);
    return 2;
  }
  const int cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("Machine: %d cores, %s\n", cores, CpuModel().c_str());

  KamailioConfig config;  // kRegistrar: REGISTER without credentials -> 401.
  auto kamailio = KamailioServer::Start(config);
  if (!kamailio.ok()) {
    std::fprintf(stderr, "kamailio: %s\n",
                 std::string(kamailio.status().message()).c_str());
    return 1;
  }
  const std::vector<pid_t> kamailio_pids = (*kamailio)->ProcessIds();
  const int loop_cpu = cores >= 2 ? 0 : -1;
  bool pinned = false;
  if (cores >= 2) {
    pinned = true;
    for (pid_t pid : kamailio_pids) pinned &= PinTo(pid, cores - 1);
  }
  EventLoop loop;
  loop.Start();
  if (loop_cpu >= 0) loop.RunSync([&] { pinned &= PinTo(0, loop_cpu); });
  if (cores >= 2) {
    std::printf(
        "Pinning: loop thread to CPU 0, Kamailio's %zu processes to CPU %d%s\n",
        kamailio_pids.size(), cores - 1, pinned ? "" : " (FAILED: not pinned)");
  } else {
    std::printf("Pinning: none (one core: loop and Kamailio share it)\n");
  }

  // ---- 1. Throughput.
  std::printf(
      "\nProbe engine throughput: SipProber on one EventLoop thread, UDP, "
      "REGISTER\n"
      "without credentials, answered by Kamailio 5.6 (kRegistrar: stateless "
      "401\n"
      "challenge; one UDP worker; the fixture's script logs each request).\n"
      "%s per row after 0.5 s of warm-up.\n\n",
      absl::FormatDuration(args.duration).c_str());
  RealClock clock;
  RealRandom random;
  sip::ProberOptions
      prober_options;  // Daemon defaults: T1 500 ms, timeout 2 s.
  std::unique_ptr<sip::SipProber> prober;
  loop.RunSync([&] {
    prober = std::make_unique<sip::SipProber>(loop.io_context(), loop, clock,
                                              random, prober_options);
  });
  const absl::Duration warmup = absl::Milliseconds(500);
  std::vector<ThroughputRow> rows;
  rows.push_back(BarePingPong(**kamailio, warmup, args.duration, loop_cpu));
  ThroughputDriver driver(loop, *prober, **kamailio);
  for (int n : {1, 16, 64})
    rows.push_back(driver.Run(n, warmup, args.duration));
  uint64_t ignored = 0;
  loop.RunSync([&] {
    ignored = prober->ignored_responses();
    prober.reset();
  });

  std::printf("  %-22s %9s %15s %10s %19s %15s %13s\n", "in flight", "probes/s",
              "loop CPU/probe", "loop busy", "Kamailio CPU/probe",
              "1-core ceiling", "rest of host");
  bool failed = false;
  bool busy_host = false;
  for (const ThroughputRow& r : rows) {
    const std::string label = r.label == "bare"
                                  ? "bare UDP ping-pong (1)"
                                  : absl::StrCat("SipProber ", r.label);
    if (r.completed == 0 || r.wall <= 0) {
      std::printf("  %-22s FAILED: %s\n", label.c_str(),
                  r.first_unexpected.c_str());
      failed = true;
      continue;
    }
    std::printf("  %-22s %9.0f %15s %9.0f%% %19s %13.0f/s %8.2f cores\n",
                label.c_str(), r.rate(), Micros(r.cpu_per_probe()).c_str(),
                100 * r.loop_cpu / r.wall,
                Micros(r.responder_per_probe()).c_str(), 1 / r.cpu_per_probe(),
                r.rest_cores());
    busy_host |= r.rest_cores() > 0.2;
    if (r.unexpected > 0) {
      std::printf("    %lld of %lld were not a 401 (first: %s)\n",
                  static_cast<long long>(r.unexpected),
                  static_cast<long long>(r.completed),
                  r.first_unexpected.c_str());
    }
  }
  std::printf(
      "  loop CPU/probe: the loop thread's CPU time (user+sys) per completed "
      "probe;\n"
      "  1-core ceiling = 1 / loop CPU per probe; rest of host: CPU used "
      "meanwhile by\n"
      "  everything else (other processes, softirq, steal), in cores.\n");
  if (busy_host) {
    std::printf(
        "  WARNING: the host was busy with other work during some rows (rest "
        "of\n"
        "  host > 0.2 cores): rates are then low; rerun on a quiet machine.\n");
  }
  if (ignored > 0) {
    std::printf("  (%llu responses ignored as not matching a transaction)\n",
                static_cast<unsigned long long>(ignored));
  }
  const ThroughputRow& bare = rows[0];
  const ThroughputRow& one = rows[1];
  if (bare.completed > 0 && one.completed > 0) {
    std::printf(
        "\nRatios in this run:\n"
        "  SipProber, 1 in flight: %.2f x the bare ping-pong rate; loop CPU "
        "per probe\n"
        "    %.2f x the bare thread's CPU per exchange (socket per probe, "
        "request\n"
        "    building, parsing, timers on top of the kernel round trip)\n",
        one.rate() / bare.rate(), one.cpu_per_probe() / bare.cpu_per_probe());
    for (size_t k = 2; k < rows.size(); ++k) {
      if (rows[k].completed == 0) continue;
      std::printf("  SipProber, %d in flight: %.2f x the bare ping-pong rate\n",
                  rows[k].in_flight, rows[k].rate() / bare.rate());
    }
  }

  // ---- 2. Detection time. Unpinned: timers should not wait for one CPU.
  if (cores >= 2) {
    for (pid_t pid : kamailio_pids) Unpin(pid, cores);
    loop.RunSync([&] { Unpin(0, cores); });
  }
  std::printf(
      "\nDetection time: SIGSTOP of the registrar at a random phase -> "
      "HealthTracker\n"
      "marks it UNHEALTHY (REGISTER probes; stamped on the loop thread).\n");
  std::mt19937_64 rng(std::random_device{}());
  for (const DetectionConfig& c :
       {DetectionConfig{absl::Seconds(1), absl::Milliseconds(200),
                        absl::Milliseconds(500)},
        DetectionConfig{absl::Milliseconds(200), absl::Milliseconds(100),
                        absl::Milliseconds(300)}}) {
    DetectionResult r = MeasureDetection(loop, **kamailio, c, args.trials, rng);
    PrintDetection(r, cores);
    failed |= !r.error.empty();
  }
  loop.Stop();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  return sipresolver::testing::Main(argc, argv);
}
