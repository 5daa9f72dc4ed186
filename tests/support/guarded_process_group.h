// GuardedProcessGroup: a server child that forks workers (Kamailio: UDP and
// TCP receivers, timers, ...), run as the leader of its own process group
// so that its workers are paused and stopped with it, and guarded so that
// no member outlives the test. PR_SET_PDEATHSIG reaches only the leader,
// and killing the leader alone leaves the workers serving its ports, so a
// guardian process (a fork of the test process, no exec) SIGKILLs the whole
// group as soon as the test process dies, whatever the cause. The guardian
// ignores the signals a terminal or ctest sends to the test's group, so it
// outlives the test to do its job.
//
// Thread-compatible. Start it on the test's own thread (the leader's
// PR_SET_PDEATHSIG is tied to it). The destructor stops the group.
#ifndef SIPRESOLVER_TESTS_SUPPORT_GUARDED_PROCESS_GROUP_H_
#define SIPRESOLVER_TESTS_SUPPORT_GUARDED_PROCESS_GROUP_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/child_process.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {

class GuardedProcessGroup : public ServerChild {
 public:
  GuardedProcessGroup() = default;
  ~GuardedProcessGroup() override { Stop(); }
  GuardedProcessGroup(const GuardedProcessGroup&) = delete;
  GuardedProcessGroup& operator=(const GuardedProcessGroup&) = delete;

  // Spawns the leader (see SpawnChild; own_process_group is implied) and
  // its guardian. Call only while !running().
  absl::Status Start(const ChildOptions& options) override;
  // If the leader has exited by itself: SIGKILLs whatever is left of the
  // group, forgets it and says how the leader ended; nullopt while it runs.
  std::optional<std::string> CheckExited() override;
  // SIGKILL to every member but the leader (resuming the group if paused),
  // which makes the leader reap them and exit by itself; SIGKILL to the
  // whole group if it has not within 2 s. Reaps the leader and leaves no
  // member behind (bounded). Idempotent.
  void Stop() override;
  // SIGSTOP / SIGCONT to the whole group. Pause() returns once every member
  // is stopped (bounded: 2 s).
  void Pause();
  void Resume();

  // The live members right now, leader first.
  std::vector<pid_t> ProcessIds() const;
  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  pid_t pid() const { return pid_; }  // Also the process group id.

 private:
  void ReleaseGuardian();  // Lets the guardian exit without killing.

  pid_t pid_ = -1;
  pid_t guardian_pid_ = -1;
  ScopedFd guardian_fd_;  // Our end of the guardian's socket pair.
  bool paused_ = false;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_GUARDED_PROCESS_GROUP_H_
