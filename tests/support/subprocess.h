// Subprocess: runs a real binary for end-to-end tests (sipresolverd, the
// CLI) with its stdout and stderr captured in a file. The child is killed
// if the test process dies (see child_process.h) and by the destructor, so
// no process outlives its test. Every wait is bounded.
#ifndef SIPRESOLVER_TESTS_SUPPORT_SUBPROCESS_H_
#define SIPRESOLVER_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/loopback.h"  // PickFreePort, long declared here.

namespace sipresolver::testing {

class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv);
  ~Subprocess();  // SIGKILL if still running; reaps.

  void Signal(int signal_number);
  // The exit status (128 + signal if killed), or nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  // Everything the child printed so far (stdout and stderr interleaved).
  std::string Output() const;
  // Waits until Output() contains `text`; false on timeout or exit.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);
  bool running();
  pid_t pid() const { return pid_; }

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string output_path_;
};

struct CommandResult {
  int exit_status = -1;
  std::string output;
};
// Runs argv to completion (killed after `timeout`).
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(30));

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_SUBPROCESS_H_
