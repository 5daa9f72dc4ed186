#include "tests/support/subprocess.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/child_process.h"

namespace sipresolver::testing {

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv) {
  std::unique_ptr<Subprocess> p(new Subprocess());
  char path[] = "/tmp/sipresolver-subprocess-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return absl::InternalError("mkstemp failed");
  close(fd);
  p->output_path_ = path;
  absl::StatusOr<pid_t> pid = SpawnChild({argv, path, path});
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  return p;
}

Subprocess::~Subprocess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(absl::Seconds(5));
  }
  if (!output_path_.empty()) unlink(output_path_.c_str());
}

void Subprocess::Signal(int signal_number) {
  if (running()) kill(pid_, signal_number);
}

bool Subprocess::running() {
  if (exit_status_ || pid_ <= 0) return false;
  if (std::optional<int> status = TryReap(pid_)) {
    exit_status_ =
        WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    return false;
  }
  return true;
}

std::optional<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return exit_status_;
}

std::string Subprocess::Output() const {
  std::ifstream in(output_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Subprocess::WaitForOutput(const std::string& text,
                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Output().find(text) != std::string::npos) return true;
    if (!running()) return Output().find(text) != std::string::npos;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  auto p = Subprocess::Start(argv);
  if (!p.ok()) return CommandResult{-1, std::string(p.status().message())};
  std::optional<int> status = (*p)->Wait(timeout);
  return CommandResult{status.value_or(-1), (*p)->Output()};
}

}  // namespace sipresolver::testing
