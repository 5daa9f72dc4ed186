// Child processes for test fixtures that run real programs: servers
// (dnsmasq, Kamailio, coturn) and the binaries under test (sipresolverd,
// the CLI). Every child
//  - dies with the test: PR_SET_PDEATHSIG(SIGKILL), which Linux ties to the
//    thread that forked, so spawn from the test's own thread;
//  - starts clean: stdin from /dev/null, stdout and stderr to files, no
//    other descriptor of the test process (sockets, pipes, other fixtures'
//    guardians), default signal dispositions and no blocked signal (a
//    server that inherited the test runner's ignored or blocked signals
//    would not stop on SIGTERM).
// Every wait here is bounded.
#ifndef SIPRESOLVER_TESTS_SUPPORT_CHILD_PROCESS_H_
#define SIPRESOLVER_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sipresolver::testing {

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0]: the program's absolute path.
  // Files that get the child's stdout and stderr, appended to and created if
  // missing, so that a log carries over restarts; "" is /dev/null. The same
  // path for both gives one file the two streams interleave in.
  std::string stdout_path;
  std::string stderr_path;
  // A new process group whose id is the child's pid (see
  // GuardedProcessGroup), which also keeps a terminal's ^C to the test's
  // group from reaching it directly.
  bool own_process_group = false;
};

// Forks and execs `options.argv`; returns the child's pid. If exec fails,
// the child writes why to its stderr and exits with status 127.
absl::StatusOr<pid_t> SpawnChild(const ChildOptions& options);

// If `pid` has exited, reaps it and returns its wait status.
std::optional<int> TryReap(pid_t pid);
// Polls until `pid` is reaped (or is no child of ours); false if it still
// runs after `timeout`.
bool ReapWithin(pid_t pid, absl::Duration timeout);
// "exit status N" or "signal N", for error messages.
std::string DescribeWaitStatus(int wait_status);

// A process's (or thread's) line of /proc/PID/stat, as far as fixtures
// need it; nullopt once it is gone.
struct ProcStat {
  char state;  // 'R', 'S', 'D', 'T' (stopped), 't', 'Z', ...
  pid_t process_group;
};
std::optional<ProcStat> ReadProcStat(const std::string& stat_path);
// Whether SIGSTOP has taken effect on every thread of `pid` (true once gone).
bool AllThreadsStopped(pid_t pid);

// For code that forks without exec (a guardian): closes every descriptor
// from `first` up, async-signal-safely. `limit` (FdLimit(), read before
// fork) bounds the fallback loop where close_range is missing.
int FdLimit();
void CloseDescriptorsFrom(int first, int limit);

// ServerChild: what fixtures do with a server child whichever way it is
// run (ChildProcess: one process; GuardedProcessGroup: a process group):
// start it, wait until it serves, see whether it died, stop it.
class ServerChild {
 public:
  virtual ~ServerChild() = default;

  // Spawns the child (see SpawnChild). Call only while it does not run.
  virtual absl::Status Start(const ChildOptions& options) = 0;
  // If the child has exited by itself: forgets it and says how it ended
  // (see DescribeWaitStatus); nullopt while it runs.
  virtual std::optional<std::string> CheckExited() = 0;
  // Ends the child and reaps it, bounded. Idempotent.
  virtual void Stop() = 0;

  // Start(options), then calls `ready` (the server's readiness probe, which
  // may block briefly) every `interval` until it returns true. Fails if the
  // child exits first (INTERNAL) or `timeout` passes (DEADLINE_EXCEEDED;
  // the child is stopped); the message names the command and holds what
  // the child wrote to stderr meanwhile (where "in use" shows a port that
  // another process took first).
  absl::Status StartAndWaitUntilReady(const ChildOptions& options,
                                      absl::FunctionRef<bool()> ready,
                                      absl::Duration timeout,
                                      absl::Duration interval);
};

// ChildProcess: one server process a fixture starts, pauses and stops
// (dnsmasq, coturn). Thread-compatible; the destructor stops the child.
class ChildProcess : public ServerChild {
 public:
  ChildProcess() = default;
  ~ChildProcess() override { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  absl::Status Start(const ChildOptions& options) override;
  std::optional<std::string> CheckExited() override;
  // SIGTERM (resuming the child if paused), SIGKILL after 2 s; reaps the
  // child. Idempotent.
  void Stop() override;
  // SIGSTOP / SIGCONT. Pause() returns once every thread is stopped
  // (bounded: 2 s), so that a request sent after it is certainly not
  // answered until Resume().
  void Pause();
  void Resume();

  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  pid_t pid() const { return pid_; }

 private:
  std::string name_;  // The program's file name, for diagnostics.
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_CHILD_PROCESS_H_
