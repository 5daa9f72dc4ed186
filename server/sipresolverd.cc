// sipresolverd: the sipresolver gRPC service. Flags (server/daemon_flags.cc)
// are documented by --help; everything else lives in Daemon.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/daemon.h"
#include "server/daemon_flags.h"
#include "server/log.h"

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock
  // detection on: a global graph of every mutex (gRPC's too), updated on
  // lock and unlock. With 100,000 streams it costs more than the fan-out.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "sipresolver gRPC service: resolves SIP server names as devices do.\n"
      "Usage: sipresolverd [--listen=HOST:PORT] [--metrics_listen=HOST:PORT] "
      "[--dns_servers=HOST:PORT,...] [flags]");
  absl::FlagsUsageConfig usage;  // --help lists the flags of daemon_flags.cc.
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "daemon_flags.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return "sipresolverd " SIPRESOLVER_VERSION "\n";
  };
  absl::SetFlagsUsageConfig(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "sipresolverd: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }

  auto config = sipresolver::server::DaemonConfigFromFlags();
  if (!config.ok()) {
    std::fprintf(stderr, "sipresolverd: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }

  sipresolver::server::SetLogFormat(config->log_format);
  sipresolver::server::RouteGrpcLogs();

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto daemon = sipresolver::server::Daemon::Start(*config);
  if (!daemon.ok()) {
    sipresolver::server::Log(sipresolver::server::Severity::kError,
                             "cannot start",
                             {{"error", daemon.status().ToString()}});
    // A bad flag value found while starting (allowlist, credentials file
    // format) is a usage error like the ones caught above.
    return daemon.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sipresolver::server::Log(
      "received signal",
      {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*daemon)->Shutdown();
  return 0;
}
