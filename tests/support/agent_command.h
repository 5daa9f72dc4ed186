// AgentCommand: the command line of each agent a device can run, so one
// end-to-end suite covers them all with the same flags: `sipresolver watch`
// (the C++ agent), `sipresolver-agent` (the device-sized C agent) built for
// the host, and the same built for armhf by scripts/build-agent, run under
// qemu-user-static. A device must not be able to tell them apart.
#ifndef SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
#define SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_

#include <string>
#include <vector>

namespace sipresolver::testing {

enum class AgentKind { kWatch, kDevice, kDeviceArmhf };

// "watch", "device", "device_armhf": for parameterised test names.
std::string AgentName(AgentKind kind);

// Runs `kind` against the service at `server` with `flags` (those both
// agents take: --profile, --agent_id, --hook, --output_file, --json, --once,
// --tls_*, --spread, --report_socket, --device_control_after, ...).
std::vector<std::string> AgentCommand(AgentKind kind, const std::string& server,
                                      const std::vector<std::string>& flags);

// The armhf agent: scripts/build-agent armhf's output (scripts/test builds
// it before the suite runs).
std::string ArmhfAgentPath();

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
