// Probing shared through etcd (docs/replicas.md): 1, 3, 5 and 8 real
// sipresolverd replicas, each with an agent watching one profile of two
// real Kamailio registrars, once alone (every replica probes) and once
// sharing through a real etcd. For each: REGISTERs per registrar per probe
// interval, counted at the registrars; and when registrar 0 is paused, how
// long until each replica's agent has the other one as its primary (the
// first, and how much later the last). Then, with three sharing replicas,
// the faults: a replica SIGKILLed (the longest gap between probes at a
// registrar, and how long until its share is taken over), and etcd killed
// and restarted (probes per interval meanwhile, decisions changed).
//
// Run: scripts/bench (README). Flags: --replicas=1,3,5,8 --window=20s
// --interval=1s.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

ABSL_FLAG(std::string, replicas, "1,3,5,8", "Fleet sizes to measure.");
ABSL_FLAG(absl::Duration, window, absl::Seconds(20),
          "How long probes are counted at each size.");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1), "--probe_interval.");

namespace sipresolver::testing {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

class Fleet {
 public:
  // `n` replicas; sharing through a fresh etcd when `shared`.
  static std::unique_ptr<Fleet> Start(int n, bool shared) {
    std::unique_ptr<Fleet> f(new Fleet);
    f->shared_ = shared;
    if (shared) {
      auto etcd = EtcdServer::Start();
      if (!etcd.ok()) return Fail(etcd.status());
      f->etcd_ = *std::move(etcd);
    }
    const std::string interval =
        absl::FormatDuration(absl::GetFlag(FLAGS_interval));
    RegistrarStackOptions options;
    options.registrars = 2;
    options.probe_flags = {"--probe_allow=127.0.0.1/32",
                           "--probe_interval=" + interval,
                           "--probe_edge_interval=250ms",
                           "--probe_timeout=500ms", "--probe_min_rto=500ms"};
    options.extra_flags = f->FleetFlags(0);
    auto stack = RegistrarStack::Start(options);
    if (!stack.ok()) return Fail(stack.status());
    f->stack_ = *std::move(stack);
    f->replicas_.push_back(&f->stack_->daemon());
    for (int i = 1; i < n; ++i) {
      std::vector<std::string> flags = options.probe_flags;
      for (const std::string& x : f->FleetFlags(i)) flags.push_back(x);
      auto daemon =
          SipresolverdProcess::Start(f->stack_->dns().address(), flags);
      if (!daemon.ok()) return Fail(daemon.status());
      f->more_.push_back(*std::move(daemon));
      f->replicas_.push_back(f->more_.back().get());
    }
    for (SipresolverdProcess* r : f->replicas_) {
      f->agents_.push_back(std::make_unique<DecisionWatcher>(
          r->stub(), WatchRequest("agent", RegistrarStack::kDomain)));
    }
    const uint16_t first = f->registrar(0).port();
    if (!f->WaitUntilOn(first, absl::Seconds(60)).has_value() ||
        !Eventually([&] { return f->Settled(n); }, absl::Seconds(60))) {
      std::fprintf(stderr, "fleet of %d did not settle\n", n);
      return nullptr;
    }
    return f;
  }

  KamailioServer& registrar(int i) { return stack_->registrar(i); }
  EtcdServer& etcd() { return *etcd_; }
  SipresolverdProcess& replica(int i) { return *replicas_[i]; }
  int size() const { return static_cast<int>(replicas_.size()); }

  // Every replica sees the others; each registrar has its owners.
  bool Settled(int replicas) {
    if (!shared_) return true;
    double owned = 0;
    for (SipresolverdProcess* r : replicas_) {
      if (!r->running()) continue;
      const std::string m = r->Metrics();
      if (MetricValue(m, "sipresolver_fleet_replicas") != replicas ||
          MetricValue(m, "sipresolver_etcd_session_active") != 1) {
        return false;
      }
      owned += MetricValue(m, "sipresolver_probe_owned_endpoints");
    }
    return owned == 2 * std::min(2, replicas);
  }

  // REGISTERs per registrar per interval over `window` (both registrars'
  // mean).
  double ProbesPerInterval(absl::Duration window) {
    for (int i = 0; i < 2; ++i) registrar(i).ResetRequestCounts();
    const absl::Time start = absl::Now();
    absl::SleepFor(window);
    const double intervals =
        (absl::Now() - start) / absl::GetFlag(FLAGS_interval);
    return (registrar(0).CountRequests("REGISTER") +
            registrar(1).CountRequests("REGISTER")) /
           (2 * intervals);
  }

  // Time from now until each running replica's agent has `port` as its
  // primary (nullopt if one had not within `timeout`).
  std::optional<std::vector<absl::Duration>> WaitUntilOn(
      uint16_t port, absl::Duration timeout) {
    const absl::Time start = absl::Now();
    std::vector<std::optional<absl::Duration>> at(agents_.size());
    while (absl::Now() - start < timeout) {
      bool all = true;
      for (size_t i = 0; i < agents_.size(); ++i) {
        if (at[i] || !replicas_[i]->running()) continue;
        if (agents_[i]->WaitFor(
                [&](const v1::Decision& d) {
                  return d.state() == v1::DECISION_STATE_ACTIVE &&
                         d.primary().port() == port;
                },
                absl::ZeroDuration())) {
          at[i] = absl::Now() - start;
        } else {
          all = false;
        }
      }
      if (all) {
        std::vector<absl::Duration> out;
        for (const auto& a : at) {
          if (a) out.push_back(*a);
        }
        return out;
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    return std::nullopt;
  }

  // Decisions (heartbeats aside) every agent received so far.
  size_t Decisions() {
    size_t n = 0;
    for (auto& a : agents_) n += a->Received().size();
    return n;
  }

 private:
  static std::unique_ptr<Fleet> Fail(const absl::Status& s) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return nullptr;
  }
  std::vector<std::string> FleetFlags(int i) const {
    if (!shared_) return {};
    return {"--etcd_endpoints=" + etcd_->endpoints(),
            "--replica_id=replica-" + std::to_string(i), "--etcd_lease_ttl=2s"};
  }

  bool shared_ = false;
  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<RegistrarStack> stack_;
  std::vector<std::unique_ptr<SipresolverdProcess>> more_;
  std::vector<SipresolverdProcess*> replicas_;
  std::vector<std::unique_ptr<DecisionWatcher>> agents_;
};

// The longest time between two REGISTERs at `registrar` while `act` runs
// and for `after` more, sampled every 10 ms.
absl::Duration LongestGap(KamailioServer& registrar,
                          const std::function<void()>& act,
                          absl::Duration after) {
  std::atomic<bool> done{false};
  absl::Duration longest;
  std::thread sampler([&] {
    int count = registrar.CountRequests("REGISTER");
    absl::Time last = absl::Now();
    while (!done) {
      absl::SleepFor(absl::Milliseconds(10));
      const int now = registrar.CountRequests("REGISTER");
      if (now != count) {
        longest = std::max(longest, absl::Now() - last);
        last = absl::Now();
        count = now;
      }
    }
    longest = std::max(longest, absl::Now() - last);
  });
  act();
  absl::SleepFor(after);
  done = true;
  sampler.join();
  return longest;
}

void MeasureSize(int n) {
  double rate[2] = {0, 0};
  std::vector<absl::Duration> detection[2];
  for (bool shared : {false, true}) {
    std::unique_ptr<Fleet> f = Fleet::Start(n, shared);
    if (!f) return;
    rate[shared] = f->ProbesPerInterval(absl::GetFlag(FLAGS_window));
    f->registrar(0).Pause();
    auto on = f->WaitUntilOn(f->registrar(1).port(), absl::Seconds(30));
    f->registrar(0).Resume();
    if (on) detection[shared] = *on;
  }
  auto first = [](const std::vector<absl::Duration>& d) {
    return d.empty() ? -1.0 : Ms(*std::min_element(d.begin(), d.end()));
  };
  auto spread = [](const std::vector<absl::Duration>& d) {
    return d.empty() ? -1.0
                     : Ms(*std::max_element(d.begin(), d.end()) -
                          *std::min_element(d.begin(), d.end()));
  };
  std::printf(
      "%8d | %12.2f | %12.2f | %6.2fx | %9.0f | %9.0f | %10.0f | %10.0f\n", n,
      rate[0], rate[1], rate[1] > 0 ? rate[0] / rate[1] : 0.0,
      first(detection[0]), spread(detection[0]), first(detection[1]),
      spread(detection[1]));
}

void MeasureFaults() {
  const absl::Duration interval = absl::GetFlag(FLAGS_interval);
  std::printf(
      "\nFaults, three replicas sharing (--probe_interval=%s, "
      "--etcd_lease_ttl=2s, --probe_owners=2):\n",
      absl::FormatDuration(interval).c_str());
  {
    std::unique_ptr<Fleet> f = Fleet::Start(3, true);
    if (!f) return;
    absl::Time killed;
    absl::Duration settled;
    const absl::Duration gap = LongestGap(
        f->registrar(0),
        [&] {
          killed = absl::Now();
          f->replica(2).Kill();
          Eventually([&] { return f->Settled(2); }, absl::Seconds(60),
                     absl::Milliseconds(10));
          settled = absl::Now() - killed;
        },
        2 * interval);
    std::printf(
        "  a replica SIGKILLed: share taken over after %.0f ms; longest gap "
        "between probes at a registrar %.0f ms (bound: interval + lease "
        "TTL = %.0f ms)\n",
        Ms(settled), Ms(gap), Ms(interval + absl::Seconds(2)));
  }
  {
    std::unique_ptr<Fleet> f = Fleet::Start(3, true);
    if (!f) return;
    const size_t decisions = f->Decisions();
    f->etcd().Kill();
    Eventually(
        [&] {
          for (int i = 0; i < f->size(); ++i) {
            if (f->replica(i).Metrics().find(
                    "sipresolver_etcd_session_active 0") == std::string::npos)
              return false;
          }
          return true;
        },
        absl::Seconds(60));
    const double down = f->ProbesPerInterval(absl::Seconds(10));
    const absl::Time restart = absl::Now();
    if (!f->etcd().Restart().ok()) return;
    Eventually([&] { return f->Settled(3); }, absl::Seconds(60),
               absl::Milliseconds(10));
    const absl::Duration back = absl::Now() - restart;
    const double after = f->ProbesPerInterval(absl::Seconds(10));
    std::printf(
        "  etcd killed: %.2f probes per registrar per interval while it was "
        "down (bound: --probe_owners = 2); restarted: sharing again after "
        "%.0f ms, then %.2f per interval; decisions changed by it: %zu\n",
        down, Ms(back), after, f->Decisions() - decisions);
  }
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace sipresolver::testing;  // NOLINT(build/namespaces)
  std::printf(
      "Probing shared through etcd: 2 registrars, one agent per replica, "
      "--probe_interval=%s\n",
      absl::FormatDuration(absl::GetFlag(FLAGS_interval)).c_str());
  std::printf(
      "replicas | alone: REG/i | shared: REG/i | ratio | alone: 1st ms | "
      "spread ms | shared: 1st | spread ms\n");
  for (absl::string_view n :
       absl::StrSplit(absl::GetFlag(FLAGS_replicas), ',')) {
    int replicas = 0;
    if (absl::SimpleAtoi(n, &replicas) && replicas > 0) MeasureSize(replicas);
  }
  MeasureFaults();
  return 0;
}
