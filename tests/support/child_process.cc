#include "tests/support/child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/log_file.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {
namespace {

constexpr absl::Duration kTermTimeout = absl::Seconds(2);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);
constexpr absl::Duration kPauseTimeout = absl::Seconds(2);

// Opens where a child's stdout or stderr goes ("" = /dev/null).
ScopedFd OpenOutput(const std::string& path) {
  return ScopedFd(path.empty()
                      ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                      : open(path.c_str(),
                             O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

// Writes "cannot exec PROGRAM: errno N\n" to stderr; async-signal-safe.
void ReportExecFailure(const char* program, int err) {
  char digits[16];
  int n = sizeof(digits);
  do {
    digits[--n] = static_cast<char>('0' + err % 10);
    err /= 10;
  } while (err > 0 && n > 0);
  const char prefix[] = "cannot exec ";
  const char middle[] = ": errno ";
  ssize_t ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
  ignored = write(STDERR_FILENO, program, strlen(program));
  ignored = write(STDERR_FILENO, middle, sizeof(middle) - 1);
  ignored = write(STDERR_FILENO, digits + n, sizeof(digits) - n);
  ignored = write(STDERR_FILENO, "\n", 1);
  (void)ignored;
}

}  // namespace

int FdLimit() {
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  return nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > 65536
             ? 65536
             : static_cast<int>(nofile.rlim_cur);
}

void CloseDescriptorsFrom(int first, int limit) {
  if (close_range(static_cast<unsigned>(first), ~0U, 0) != 0) {
    for (int fd = first; fd < limit; ++fd) close(fd);
  }
}

absl::StatusOr<pid_t> SpawnChild(const ChildOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls (the test process may have threads).
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ScopedFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) {
    return absl::InternalError(
        absl::StrCat("open /dev/null: ", strerror(errno)));
  }
  ScopedFd out_fd = OpenOutput(options.stdout_path);
  if (!out_fd.valid()) {
    return absl::InternalError(
        absl::StrCat("open ", options.stdout_path, ": ", strerror(errno)));
  }
  // F_DUPFD_CLOEXEC: a fork on another thread must not inherit it either.
  ScopedFd err_fd = options.stderr_path == options.stdout_path
                        ? ScopedFd(fcntl(out_fd.get(), F_DUPFD_CLOEXEC, 0))
                        : OpenOutput(options.stderr_path);
  if (!err_fd.valid()) {
    return absl::InternalError(
        absl::StrCat("open ", options.stderr_path, ": ", strerror(errno)));
  }
  const int limit = FdLimit();
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigset_t no_signals;
  sigemptyset(&no_signals);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // The test died before prctl.
    if (options.own_process_group) setpgid(0, 0);
    dup2(null_fd.get(), STDIN_FILENO);
    dup2(out_fd.get(), STDOUT_FILENO);
    dup2(err_fd.get(), STDERR_FILENO);
    CloseDescriptorsFrom(3, limit);
    for (int s = 1; s < NSIG; ++s) sigaction(s, &default_action, nullptr);
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    execv(argv[0], argv.data());
    ReportExecFailure(argv[0], errno);
    _exit(127);
  }
  // Also here, so that the group exists before the caller signals it.
  if (options.own_process_group) setpgid(pid, pid);
  return pid;
}

std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) return status;
  return std::nullopt;
}

bool ReapWithin(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

std::string DescribeWaitStatus(int wait_status) {
  return WIFEXITED(wait_status)
             ? absl::StrCat("exit status ", WEXITSTATUS(wait_status))
             : absl::StrCat("signal ", WTERMSIG(wait_status));
}

std::optional<ProcStat> ReadProcStat(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  std::getline(in, line);
  // "PID (COMM) STATE PPID PGRP ..."; COMM may hold spaces and ')'.
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(line).substr(paren + 1), ' ', absl::SkipEmpty());
  int group;
  if (fields.size() < 3 || fields[0].empty() ||
      !absl::SimpleAtoi(fields[2], &group)) {
    return std::nullopt;
  }
  return ProcStat{fields[0][0], group};
}

bool AllThreadsStopped(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return true;  // Gone.
  bool stopped = true;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::optional<ProcStat> stat =
        ReadProcStat(absl::StrCat(dir, "/", e->d_name, "/stat"));
    if (stat && stat->state != 'T' && stat->state != 't') stopped = false;
  }
  closedir(d);
  return stopped;
}

absl::Status ServerChild::StartAndWaitUntilReady(
    const ChildOptions& options, absl::FunctionRef<bool()> ready,
    absl::Duration timeout, absl::Duration interval) {
  const LogFile stderr_log(options.stderr_path);
  const size_t stderr_start = stderr_log.Size();
  if (absl::Status s = Start(options); !s.ok()) return s;
  auto failure = [&](absl::StatusCode code, absl::string_view why) {
    return absl::Status(
        code, absl::StrCat(absl::StrJoin(options.argv, " "), ": ", why,
                           "; stderr: ", stderr_log.Read(stderr_start)));
  };
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (std::optional<std::string> how = CheckExited()) {
      return failure(absl::StatusCode::kInternal,
                     absl::StrCat("exited (", *how, ")"));
    }
    if (ready()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      Stop();
      return failure(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("not ready within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(interval);
  }
}

absl::Status ChildProcess::Start(const ChildOptions& options) {
  absl::StatusOr<pid_t> pid = SpawnChild(options);
  if (!pid.ok()) return pid.status();
  const std::string& program = options.argv[0];
  name_ = program.substr(program.rfind('/') + 1);
  pid_ = *pid;
  paused_ = false;
  return absl::OkStatus();
}

std::optional<std::string> ChildProcess::CheckExited() {
  std::optional<int> status = TryReap(pid_);
  if (!status) return std::nullopt;
  pid_ = -1;
  paused_ = false;
  return DescribeWaitStatus(*status);
}

void ChildProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // A stopped process acts on SIGTERM only once resumed.
  if (!ReapWithin(pid_, kTermTimeout)) {
    kill(pid_, SIGKILL);
    if (!ReapWithin(pid_, kKillTimeout)) {
      std::cerr << "ChildProcess: " << name_ << " pid " << pid_
                << " survived SIGKILL for " << kKillTimeout << "\n";
    }
  }
  pid_ = -1;
  paused_ = false;
}

void ChildProcess::Pause() {
  if (pid_ <= 0 || paused_) return;
  kill(pid_, SIGSTOP);
  const absl::Time deadline = absl::Now() + kPauseTimeout;
  while (!AllThreadsStopped(pid_) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  paused_ = true;
}

void ChildProcess::Resume() {
  if (pid_ <= 0 || !paused_) return;
  kill(pid_, SIGCONT);
  paused_ = false;
}

}  // namespace sipresolver::testing
