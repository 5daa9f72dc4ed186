// The device agent beside the C++ agent, in one run: what each weighs on a
// device and what it costs while it works and while it waits.
//  - size: the binary plus every shared library it loads other than the C
//    library, stripped (x86_64; armhf for the device agent);
//  - memory and threads after 20 decisions, each run through a hook;
//  - decision latency: from the server's write of a decision to the start
//    of its hook, and the agent's CPU per decision;
//  - wake-ups while nothing changes: context switches of all its threads
//    over --idle, with a heartbeat every --heartbeat as the service sends.
// The server is H2TestServer, a scripted HTTP/2 server on loopback that
// sends the decisions when told, so the write time is known exactly; both
// agents get the same server, hook and decisions.
//
// Run: scripts/bench (README), which builds the device agent first
// (scripts/build-agent x86_64 armhf). Flags: --idle=60s, --heartbeat=30s,
// --decisions=20.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "sipresolver/v1/sipresolver.pb.h"
#include "tests/support/agent_command.h"
#include "tests/support/eventually.h"
#include "tests/support/h2_test_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"  // ReadFile.

ABSL_FLAG(absl::Duration, idle, absl::Seconds(60),
          "How long to count wake-ups while nothing changes.");
ABSL_FLAG(absl::Duration, heartbeat, absl::Seconds(30),
          "Heartbeat interval of the scripted server (the service's default).");
ABSL_FLAG(int, decisions, 20, "Decisions to time, each with a hook run.");

namespace sipresolver::testing {
namespace {

namespace fs = std::filesystem;

std::string Decision(uint64_t version, int primary, bool heartbeat = false) {
  v1::Decision d;
  d.set_version(version);
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_PROBES);
  d.set_heartbeat(heartbeat);
  for (int i = 0; i < 2; ++i) {
    v1::Candidate* c = d.add_candidates();
    c->set_target("pbx.test");
    c->set_address(absl::StrCat("192.0.2.", 11 + i));
    c->set_port(5060);
    c->set_priority(10);
    c->set_weight(10);
  }
  *d.mutable_primary() = d.candidates(primary);
  *d.mutable_secondary() = d.candidates(1 - primary);
  d.set_reason("benchmark");
  return GrpcFrame(d.SerializeAsString());
}

// --- size
// ---------------------------------------------------------------------

bool IsCLibrary(const std::string& name) {
  for (const char* c : {"libc.so", "libm.so", "ld-linux", "libpthread.so",
                        "libdl.so", "librt.so", "linux-vdso"})
    if (name.find(c) != std::string::npos) return true;
  return false;
}

int64_t StrippedSize(const std::string& path, const std::string& strip) {
  const std::string copy = "/tmp/agent_bench_strip";
  std::error_code ec;
  fs::copy_file(path, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) return -1;
  RunCommand({strip, "-s", copy});
  const int64_t size = static_cast<int64_t>(fs::file_size(copy, ec));
  fs::remove(copy, ec);
  return ec ? -1 : size;
}

struct Size {
  int64_t total = -1;
  std::string detail;
};

// The binary and its libraries, loaded as `ldd` (or, for another
// architecture, `ldd_prefix` and readelf) finds them.
Size MeasureSize(const std::string& binary, const std::string& strip,
                 const std::string& root = "") {
  Size s;
  if (!fs::exists(binary)) return s;
  s.total = StrippedSize(binary, strip);
  s.detail = absl::StrFormat("binary %d", s.total);
  std::vector<std::string> libraries;
  if (root.empty()) {
    for (absl::string_view line :
         absl::StrSplit(RunCommand({"/usr/bin/ldd", binary}).output, '\n')) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() >= 3 && parts[1] == "=>") libraries.push_back(parts[2]);
    }
  } else {
    for (absl::string_view line : absl::StrSplit(
             RunCommand({"/usr/bin/readelf", "-d", binary}).output, '\n')) {
      const size_t at = line.find("Shared library: [");
      if (at == absl::string_view::npos) continue;
      const std::string name(line.substr(at + 17, line.find(']') - at - 17));
      libraries.push_back(root + "/lib/" + name);
    }
  }
  int n = 0;
  int64_t others = 0;
  for (const std::string& lib : libraries) {
    if (IsCLibrary(lib)) continue;
    const int64_t size = StrippedSize(lib, strip);
    if (size > 0) others += size, ++n;
  }
  s.total += others;
  absl::StrAppend(&s.detail, absl::StrFormat(" + %d libraries %d", n, others));
  return s;
}

// --- running ---------------------------------------------------------------

struct Threads {
  int count = 0;
  int64_t cpu_ns = 0;    // schedstat: time on CPU.
  int64_t switches = 0;  // Voluntary and involuntary.
};

Threads ReadThreads(pid_t pid) {
  Threads t;
  for (const auto& task :
       fs::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    ++t.count;
    int64_t ns;
    std::vector<std::string> sched =
        absl::StrSplit(ReadFile(task.path() / "schedstat"), ' ');  // ns first.
    if (!sched.empty() && absl::SimpleAtoi(sched[0], &ns)) t.cpu_ns += ns;
    for (absl::string_view line :
         absl::StrSplit(ReadFile(task.path() / "status"), '\n')) {
      for (absl::string_view key :
           {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
        int64_t n;
        if (absl::ConsumePrefix(&line, key) &&
            absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n))
          t.switches += n;
      }
    }
  }
  return t;
}

int64_t StatusKiB(pid_t pid, absl::string_view key) {
  for (absl::string_view line :
       absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/status")), '\n')) {
    int64_t kib;
    if (absl::ConsumePrefix(&line, key) &&
        absl::SimpleAtoi(
            absl::StripSuffix(absl::StripAsciiWhitespace(line), " kB"), &kib))
      return kib;
  }
  return -1;
}

int64_t WallNs() { return absl::ToUnixNanos(absl::Now()); }

struct Run {
  std::string name;
  Size size_x86, size_armhf;
  int64_t hwm_kib = -1, rss_kib = -1;
  int threads = 0;
  std::vector<double> latency_ms;
  double cpu_us_per_decision = 0;
  int64_t idle_switches = -1;
  std::string error;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void RunAgent(AgentKind kind, const std::string& binary_note, Run& run) {
  auto dir = TempDir::Create("agent_bench");
  auto server = H2TestServer::Start([](int) {
    return H2Script{{H2Step::kHeaders, 200},
                    {H2Step::kData, 0, Decision(1, 0)}};
  });
  if (!dir.ok() || !server.ok()) {
    run.error = "cannot start the server";
    return;
  }
  const std::string hooked = dir->File("hooked");
  auto agent = Subprocess::Start(AgentCommand(
      kind, (*server)->address(),
      {R"(--profile={"proxy_server": "pbx.test", "proxy_server_redundancy": true})",
       "--agent_id=bench-1", "--hook=date +%s%N >> " + hooked}));
  if (!agent.ok()) {
    run.error = std::string(agent.status().message());
    return;
  }
  std::function<std::vector<std::string>()> lines = [&] {
    return std::vector<std::string>(
        absl::StrSplit(ReadFile(hooked), '\n', absl::SkipEmpty()));
  };
  if (!Eventually([&]() -> bool { return lines().size() == 1; })) {
    run.error = "no first decision: " + (*agent)->Output();
    return;
  }
  const pid_t pid = (*agent)->pid();
  const int decisions = absl::GetFlag(FLAGS_decisions);
  const Threads before = ReadThreads(pid);
  for (int i = 1; i <= decisions; ++i) {
    absl::SleepFor(absl::Milliseconds(100));  // Let the last hook end.
    const int64_t sent = WallNs();
    (*server)->Send(0, Decision(1 + i, i % 2));
    if (!Eventually(
            [&]() -> bool { return static_cast<int>(lines().size()) == i + 1; },
            absl::Seconds(30), absl::Milliseconds(5))) {
      run.error = "decision " + std::to_string(i) + " never reached the hook";
      return;
    }
    int64_t hook_ns;
    if (absl::SimpleAtoi(lines().back(), &hook_ns))
      run.latency_ms.push_back((hook_ns - sent) / 1e6);
  }
  const Threads after = ReadThreads(pid);
  run.cpu_us_per_decision = (after.cpu_ns - before.cpu_ns) / 1e3 / decisions;
  run.hwm_kib = StatusKiB(pid, "VmHWM:");
  run.rss_kib = StatusKiB(pid, "VmRSS:");
  run.threads = after.count;

  // Idle: heartbeats only.
  const Threads idle_start = ReadThreads(pid);
  const absl::Time end = absl::Now() + absl::GetFlag(FLAGS_idle);
  uint64_t version = 100;
  while (absl::Now() < end) {
    absl::SleepFor(std::min(absl::GetFlag(FLAGS_heartbeat), end - absl::Now()));
    if (absl::Now() < end) (*server)->Send(0, Decision(++version, 0, true));
  }
  run.idle_switches = ReadThreads(pid).switches - idle_start.switches;
  (void)binary_note;
}

void Print(const Run& cpp, const Run& device) {
  auto kib = [](int64_t bytes) {
    return bytes < 0 ? std::string("n/a")
                     : absl::StrFormat("%.1f KiB", bytes / 1024.0);
  };
  std::printf("\n%-44s %-26s %-26s\n", "", cpp.name.c_str(),
              device.name.c_str());
  std::printf("%-44s %-26s %-26s\n", "size x86_64, binary + libraries",
              kib(cpp.size_x86.total).c_str(),
              kib(device.size_x86.total).c_str());
  std::printf("%-44s %-26s %-26s\n", "size armhf, binary + libraries",
              kib(cpp.size_armhf.total).c_str(),
              kib(device.size_armhf.total).c_str());
  for (const Run* r : {&cpp, &device})
    std::printf("  %s: x86_64 %s; armhf %s\n", r->name.c_str(),
                r->size_x86.detail.c_str(), r->size_armhf.detail.c_str());
  std::printf("%-44s %-26s %-26s\n", "VmHWM after the decisions",
              absl::StrFormat("%d KiB", cpp.hwm_kib).c_str(),
              absl::StrFormat("%d KiB", device.hwm_kib).c_str());
  std::printf("%-44s %-26d %-26d\n", "threads", cpp.threads, device.threads);
  std::printf(
      "%-44s %-26s %-26s\n", "latency write->hook p50 / p90 / max",
      absl::StrFormat("%.1f / %.1f / %.1f ms", Percentile(cpp.latency_ms, 0.5),
                      Percentile(cpp.latency_ms, 0.9),
                      Percentile(cpp.latency_ms, 1))
          .c_str(),
      absl::StrFormat(
          "%.1f / %.1f / %.1f ms", Percentile(device.latency_ms, 0.5),
          Percentile(device.latency_ms, 0.9), Percentile(device.latency_ms, 1))
          .c_str());
  std::printf("%-44s %-26s %-26s\n", "agent CPU per decision",
              absl::StrFormat("%.0f us", cpp.cpu_us_per_decision).c_str(),
              absl::StrFormat("%.0f us", device.cpu_us_per_decision).c_str());
  std::printf("%-44s %-26d %-26d\n",
              absl::StrFormat("context switches, %s idle",
                              absl::FormatDuration(absl::GetFlag(FLAGS_idle)))
                  .c_str(),
              static_cast<int>(cpp.idle_switches),
              static_cast<int>(device.idle_switches));
  const double gap =
      Percentile(device.latency_ms, 0.5) - Percentile(cpp.latency_ms, 0.5);
  std::printf(
      "\nRatios: size %.3fx, VmHWM %.3fx; median latency %+.1f ms (target: "
      "within 10 ms); targets: size <= 512 KiB (x86_64 %s, armhf %s), VmHWM "
      "<= 1 MiB (%s), one thread (%s)\n",
      device.size_x86.total / static_cast<double>(cpp.size_x86.total),
      device.hwm_kib / static_cast<double>(cpp.hwm_kib), gap,
      device.size_x86.total >= 0 && device.size_x86.total <= 512 * 1024
          ? "met"
          : "NOT met",
      device.size_armhf.total >= 0 && device.size_armhf.total <= 512 * 1024
          ? "met"
          : "NOT met",
      device.hwm_kib >= 0 && device.hwm_kib <= 1024 ? "met" : "NOT met",
      device.threads == 1 ? "met" : "NOT met");
}

}  // namespace
}  // namespace sipresolver::testing

int main(int argc, char** argv) {
  using namespace sipresolver::testing;
  absl::ParseCommandLine(argc, argv);
  const std::string root = SIPRESOLVER_SOURCE_DIR "/build/agent";
  Run cpp, device;
  cpp.name = "C++ agent (watch)";
  device.name = "sipresolver-agent";
  cpp.size_x86 = MeasureSize(SIPRESOLVER_CLI_PATH, "/usr/bin/strip");
  device.size_x86 =
      MeasureSize(root + "/x86_64/sipresolver-agent", "/usr/bin/strip");
  device.size_armhf = MeasureSize(root + "/armhf/sipresolver-agent",
                                  "/usr/bin/arm-linux-gnueabihf-strip",
                                  "/usr/arm-linux-gnueabihf");
  if (device.size_x86.total < 0)
    std::fprintf(stderr,
                 "no %s/x86_64/sipresolver-agent: run "
                 "scripts/build-agent x86_64 armhf first\n",
                 root.c_str());
  RunAgent(AgentKind::kWatch, "", cpp);
  RunAgent(fs::exists(root + "/x86_64/sipresolver-agent")
               ? AgentKind::kDeviceX86
               : AgentKind::kDevice,
           "", device);
  for (const Run* r : {&cpp, &device})
    if (!r->error.empty())
      std::fprintf(stderr, "%s: %s\n", r->name.c_str(), r->error.c_str());
  Print(cpp, device);
  return cpp.error.empty() && device.error.empty() ? 0 : 1;
}
