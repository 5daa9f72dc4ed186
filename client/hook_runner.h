// HookRunner: runs a device's hook command (`sipresolver watch --hook`) for
// each new decision, without ever holding up the stream that delivers them.
//
// - One hook at a time, on a thread of its own. A decision submitted while
//   one runs waits in a single slot and a newer one replaces it (latest
//   wins): when the running hook ends, the next run gets the newest decision,
//   never each stale one in turn.
// - Started with posix_spawn (safe from a multithreaded process, unlike
//   fork), as `/bin/sh -c COMMAND`, in a process group of its own, with the
//   default signal mask and dispositions (the CLI blocks SIGINT/SIGTERM for
//   its own use), the caller's environment plus the decision's variables,
//   and its stdout sent to `output_fd` (stderr in the CLI: stdout carries
//   decisions only).
// - A hook still running after `timeout` is ended with its whole process
//   group (SIGKILL), children included.
// - Every exit that is not 0, each timeout and each superseded decision is
//   logged through `log` and counted.
//
// Thread-safe. The destructor waits for the running hook and the one in the
// slot (each bounded by the timeout): a decision handed over is applied.
#ifndef SIPRESOLVER_CLIENT_HOOK_RUNNER_H_
#define SIPRESOLVER_CLIENT_HOOK_RUNNER_H_

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/core/clock.h"

namespace sipresolver::client {

struct HookStats {
  int runs = 0;        // Hooks started.
  int failures = 0;    // Exited with a status other than 0, or by a signal.
  int timeouts = 0;    // Killed at the timeout.
  int superseded = 0;  // Decisions replaced in the slot before they ran.
};

class HookRunner {
 public:
  struct Options {
    std::string command;  // Run by /bin/sh -c.
    absl::Duration timeout = absl::Seconds(30);
    int output_fd = 2;  // The hook's stdout and stderr.
    std::function<void(const std::string& message)> log;  // Optional.
    // What the timeout is measured on; null: the real clock. Thread-safe
    // (read on the runner's thread).
    const Clock* clock = nullptr;
  };
  explicit HookRunner(Options options);
  ~HookRunner();

  // Runs the hook with `environment` ("NAME=value" entries, added to the
  // caller's environment) as soon as the one running, if any, is done.
  void Submit(std::vector<std::string> environment);
  // Waits until no hook runs and none waits (tests, shutdown).
  void WaitIdle();
  HookStats stats() const;

 private:
  void Loop();
  // Runs one hook to its end or its timeout.
  void Run(const std::vector<std::string>& environment);
  void Log(const std::string& message) const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::optional<std::vector<std::string>> slot_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  HookStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: starts once everything above exists.
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_HOOK_RUNNER_H_
