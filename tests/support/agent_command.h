// AgentCommand: the command line of each agent a device can run, so one
// end-to-end suite covers them all with the same flags: `sipresolver watch`
// (the C++ agent), `sipresolver-agent` (the device-sized C agent) built for
// the host, and the same built for a device by scripts/build-agent: for
// x86_64 (static, musl) and for armhf, run under qemu-user-static. A device
// must not be able to tell them apart.
#ifndef SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
#define SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace sipresolver::testing {

enum class AgentKind { kWatch, kDevice, kDeviceX86, kDeviceArmhf };

// "watch", "device", "device_x86_64", "device_armhf": for test names.
std::string AgentName(AgentKind kind);
// So that gtest prints a parameter by its name.
inline void PrintTo(AgentKind kind, std::ostream* os) {
  *os << AgentName(kind);
}

// Runs `kind` against the service at `server` with `flags` (those both
// agents take: --profile, --agent_id, --hook, --output_file, --json, --once,
// --tls_*, --spread, --report_socket, --device_control_after, ...).
std::vector<std::string> AgentCommand(AgentKind kind, const std::string& server,
                                      const std::vector<std::string>& flags);

// The agent's program: the CLI, the host build, or scripts/build-agent
// ARCH's output (scripts/test builds x86_64 and armhf before the suite).
std::string AgentBinary(AgentKind kind);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
