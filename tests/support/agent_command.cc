#include "tests/support/agent_command.h"

namespace sipresolver::testing {

std::string AgentName(AgentKind kind) {
  switch (kind) {
    case AgentKind::kWatch:
      return "watch";
    case AgentKind::kDevice:
      return "device";
    case AgentKind::kDeviceArmhf:
      return "device_armhf";
  }
  return "unknown";
}

std::string ArmhfAgentPath() {
  return SIPRESOLVER_SOURCE_DIR "/build/agent/armhf/sipresolver-agent";
}

std::vector<std::string> AgentCommand(AgentKind kind, const std::string& server,
                                      const std::vector<std::string>& flags) {
  std::vector<std::string> argv;
  switch (kind) {
    case AgentKind::kWatch:
      argv = {SIPRESOLVER_CLI_PATH, "--server=" + server, "watch"};
      break;
    case AgentKind::kDevice:
      argv = {SIPRESOLVER_AGENT_PATH, "--server=" + server};
      break;
    case AgentKind::kDeviceArmhf:
      argv = {"/usr/bin/qemu-arm-static", "-L", "/usr/arm-linux-gnueabihf",
              ArmhfAgentPath(), "--server=" + server};
      break;
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

}  // namespace sipresolver::testing
