// sipresolverd's command-line flags (documented by --help) mapped onto a
// DaemonConfig. Kept out of main so main stays thin.
#ifndef SIPRESOLVER_SERVER_DAEMON_FLAGS_H_
#define SIPRESOLVER_SERVER_DAEMON_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/daemon.h"

namespace sipresolver::server {

// Call after absl::ParseCommandLine. INVALID_ARGUMENT names the bad flag.
absl::StatusOr<DaemonConfig> DaemonConfigFromFlags();

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DAEMON_FLAGS_H_
