// Minimal logging to stderr with a UTC timestamp: the container runtime
// collects stderr. (Abseil 20220623 has no logging library.) Never pass
// secrets here.
#ifndef SIPRESOLVER_SERVER_LOG_H_
#define SIPRESOLVER_SERVER_LOG_H_

#include "absl/strings/string_view.h"

namespace sipresolver::server {

void Log(absl::string_view message);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_LOG_H_
