#include "tests/support/guarded_process_group.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sipresolver::testing {
namespace {

// The leader exits ~3 ms after its workers die, or hangs (about 1 stop in
// 40): past this it gets SIGKILL too. Kept short because a hung leader
// still holds the SIP socket, so probes would time out instead of meeting
// the closed port a stopped server should show.
constexpr absl::Duration kExitTimeout = absl::Milliseconds(250);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);
constexpr absl::Duration kPauseTimeout = absl::Seconds(2);

struct Member {
  pid_t pid;
  char state;
};

// The live (not zombie) processes of process group `group`, from /proc.
std::vector<Member> GroupMembers(pid_t group) {
  std::vector<Member> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    int pid;
    if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
    std::optional<ProcStat> stat =
        ReadProcStat(absl::StrCat("/proc/", pid, "/stat"));
    if (!stat || stat->process_group != group) continue;
    if (stat->state == 'Z' || stat->state == 'X') continue;
    out.push_back({pid, stat->state});
  }
  closedir(proc);
  return out;
}

// Waits until `done(members)` holds, at most `timeout`.
template <typename Pred>
bool WaitForGroup(pid_t group, absl::Duration timeout, Pred done) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (done(GroupMembers(group))) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
}

}  // namespace

absl::Status GuardedProcessGroup::Start(const ChildOptions& options) {
  ChildOptions leader_options = options;
  leader_options.own_process_group = true;
  absl::StatusOr<pid_t> leader = SpawnChild(leader_options);
  if (!leader.ok()) return leader.status();
  pid_ = *leader;
  paused_ = false;

  // The guardian waits on its end of a socket pair: EOF (the test process
  // died, or Stop() failed to release it) means SIGKILL to the group, a 'q'
  // means exit quietly. A socket pair rather than a pipe: send(MSG_NOSIGNAL)
  // cannot raise SIGPIPE in the test if the guardian is gone.
  auto fail = [this](absl::string_view what) {
    const int err = errno;
    kill(-pid_, SIGKILL);
    ReapWithin(pid_, kKillTimeout);
    pid_ = -1;
    return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
  };
  int guard[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, guard) != 0) {
    return fail("socketpair");
  }
  ScopedFd guard_read(guard[0]);
  ScopedFd guard_write(guard[1]);
  ScopedFd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd.valid()) return fail("open /dev/null");
  // Prepared before fork(): after it, only async-signal-safe calls.
  const int limit = FdLimit();
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  const pid_t group = pid_;

  const pid_t guardian = fork();
  if (guardian < 0) return fail("fork (guardian)");
  if (guardian == 0) {
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP}) {
      sigaction(s, &ignore, nullptr);
    }
    dup2(null_fd.get(), 0);
    dup2(null_fd.get(), 1);
    dup2(null_fd.get(), 2);
    if (guard_read.get() != 3) dup2(guard_read.get(), 3);
    CloseDescriptorsFrom(4, limit);  // Our end and other guardians' sockets.
    char c = 0;
    ssize_t n;
    do {
      n = read(3, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'q') _exit(0);
    kill(-group, SIGKILL);
    _exit(0);
  }
  guardian_pid_ = guardian;
  guardian_fd_ = std::move(guard_write);
  return absl::OkStatus();
}

std::optional<std::string> GuardedProcessGroup::CheckExited() {
  std::optional<int> status = TryReap(pid_);
  if (!status) return std::nullopt;
  const pid_t group = pid_;
  pid_ = -1;
  paused_ = false;
  // A leader that failed to start has left no workers so far; kill any all
  // the same.
  if (!GroupMembers(group).empty()) kill(-group, SIGKILL);
  ReleaseGuardian();
  return DescribeWaitStatus(*status);
}

void GuardedProcessGroup::ReleaseGuardian() {
  if (guardian_fd_.valid()) {
    char q = 'q';
    send(guardian_fd_.get(), &q, 1, MSG_NOSIGNAL);
    guardian_fd_.Reset();
  }
  if (guardian_pid_ > 0) {
    if (!ReapWithin(guardian_pid_, kKillTimeout)) {
      kill(guardian_pid_, SIGKILL);
      ReapWithin(guardian_pid_, kKillTimeout);
    }
    guardian_pid_ = -1;
  }
}

void GuardedProcessGroup::Stop() {
  if (pid_ <= 0) return;
  const pid_t group = pid_;
  // Not SIGTERM: Kamailio's own SIGTERM shutdown is not reliable in tests
  // (5.6.3): some workers never act on a SIGTERM that arrives within ~20 ms
  // of the start, and workers whose handlers run while another process
  // holds a shared-memory lock hang on it; either way the leader waits for
  // them forever. A test server has nothing to flush, so: SIGKILL the
  // workers; the leader reaps them, sees them gone and exits (~3 ms).
  if (paused_) kill(-group, SIGCONT);  // The leader must run to reap.
  const absl::Time deadline = absl::Now() + kExitTimeout;
  bool reaped = false;
  while (!reaped && absl::Now() < deadline) {
    for (const Member& m : GroupMembers(group)) {
      if (m.pid != group) kill(m.pid, SIGKILL);
    }
    reaped = ReapWithin(group, absl::Milliseconds(10));
  }
  if (!reaped) {
    std::cerr << "GuardedProcessGroup: leader " << group
              << " did not exit within " << kExitTimeout
              << " of its workers' SIGKILL; SIGKILL\n";
    kill(-group, SIGKILL);
    if (!ReapWithin(group, kKillTimeout)) {
      std::cerr << "GuardedProcessGroup: leader " << group
                << " survived SIGKILL for " << kKillTimeout << "\n";
    }
  }
  // Workers left behind (only if the leader was killed) still hold the
  // group id, so this cannot hit a recycled group.
  if (!GroupMembers(group).empty()) {
    kill(-group, SIGKILL);
    if (!WaitForGroup(group, kKillTimeout,
                      [](const auto& m) { return m.empty(); })) {
      std::cerr << "GuardedProcessGroup: processes of group " << group
                << " survived SIGKILL\n";
    }
  }
  pid_ = -1;
  paused_ = false;
  ReleaseGuardian();
}

void GuardedProcessGroup::Pause() {
  if (pid_ <= 0 || paused_) return;
  kill(-pid_, SIGSTOP);
  // Every member, not just the leader: workers answer on their own.
  if (!WaitForGroup(pid_, kPauseTimeout, [](const auto& members) {
        for (const Member& m : members) {
          if (m.state != 'T' && m.state != 't') return false;
        }
        return true;
      })) {
    std::cerr << "GuardedProcessGroup: not every process of group " << pid_
              << " stopped within " << kPauseTimeout << "\n";
  }
  paused_ = true;
}

void GuardedProcessGroup::Resume() {
  if (pid_ <= 0 || !paused_) return;
  kill(-pid_, SIGCONT);
  paused_ = false;
}

std::vector<pid_t> GuardedProcessGroup::ProcessIds() const {
  std::vector<pid_t> pids;
  if (pid_ <= 0) return pids;
  for (const Member& m : GroupMembers(pid_)) {
    if (m.pid == pid_) {
      pids.insert(pids.begin(), m.pid);
    } else {
      pids.push_back(m.pid);
    }
  }
  return pids;
}

}  // namespace sipresolver::testing
