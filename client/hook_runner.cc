#include "client/hook_runner.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

extern char** environ;

namespace sipresolver::client {
namespace {

absl::string_view NameOf(absl::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// The caller's environment with `overrides` in place of same-named entries.
std::vector<std::string> MergedEnvironment(
    const std::vector<std::string>& overrides) {
  absl::flat_hash_set<absl::string_view> names;
  for (const std::string& entry : overrides) names.insert(NameOf(entry));
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!names.contains(NameOf(*e))) merged.emplace_back(*e);
  }
  merged.insert(merged.end(), overrides.begin(), overrides.end());
  return merged;
}

}  // namespace

HookRunner::HookRunner(Options options)
    : options_(std::move(options)), thread_([this] { Loop(); }) {}

HookRunner::~HookRunner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void HookRunner::Submit(std::vector<std::string> environment) {
  bool replaced = false;
  {
    absl::MutexLock lock(&mu_);
    replaced = slot_.has_value();
    if (replaced) ++stats_.superseded;
    slot_ = std::move(environment);
  }
  if (replaced) Log("a newer decision replaced one whose hook had not run yet");
}

void HookRunner::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](HookRunner* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
        return !r->slot_.has_value() && !r->running_;
      },
      this));
}

HookStats HookRunner::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void HookRunner::Loop() {
  while (true) {
    std::vector<std::string> environment;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](HookRunner* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
            return r->slot_.has_value() || r->stopping_;
          },
          this));
      if (!slot_.has_value()) return;  // Stopping, nothing left to apply.
      environment = *std::move(slot_);
      slot_.reset();
      running_ = true;
      ++stats_.runs;
    }
    Run(environment);
    absl::MutexLock lock(&mu_);
    running_ = false;
  }
}

void HookRunner::Run(const std::vector<std::string>& environment) {
  // Everything the child needs is built here: after posix_spawn it only
  // execs.
  const std::vector<std::string> merged = MergedEnvironment(environment);
  std::vector<char*> envp;
  envp.reserve(merged.size() + 1);
  for (const std::string& entry : merged) {
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", command = options_.command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
    sigaddset(&defaults, s);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // A group of its own: pgid = pid.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {1, 2}) {
    if (fd != options_.output_fd) {
      posix_spawn_file_actions_adddup2(&actions, options_.output_fd, fd);
    }
  }
  // From before the start: once the hook has done anything, its deadline is
  // set.
  static const RealClock real_clock;
  const Clock& clock = options_.clock ? *options_.clock : real_clock;
  const absl::Time deadline = clock.Now() + options_.timeout;
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.failures;
    }
    Log(absl::StrCat("hook could not be started: ", strerror(rc)));
    return;
  }

  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return;  // Not ours any more: nothing to do.
    if (clock.Now() >= deadline) {
      kill(-pid, SIGKILL);  // The whole group: the shell and its children.
      waitpid(pid, &status, 0);
      {
        absl::MutexLock lock(&mu_);
        ++stats_.timeouts;
      }
      Log(absl::StrCat("hook ran longer than ",
                       absl::FormatDuration(options_.timeout),
                       " and was killed with its process group"));
      return;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.failures;
  }
  Log(WIFEXITED(status)
          ? absl::StrCat("hook exited with status ", WEXITSTATUS(status))
          : absl::StrCat("hook was ended by signal ", WTERMSIG(status)));
}

void HookRunner::Log(const std::string& message) const {
  if (options_.log) options_.log(message);
}

}  // namespace sipresolver::client
