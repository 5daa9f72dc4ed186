#include "tests/support/agent_command.h"

namespace sipresolver::testing {

std::string AgentName(AgentKind kind) {
  switch (kind) {
    case AgentKind::kWatch:
      return "watch";
    case AgentKind::kDevice:
      return "device";
    case AgentKind::kDeviceX86:
      return "device_x86_64";
    case AgentKind::kDeviceArmhf:
      return "device_armhf";
  }
  return "unknown";
}

std::string AgentBinary(AgentKind kind) {
  switch (kind) {
    case AgentKind::kWatch:
      return SIPRESOLVER_CLI_PATH;
    case AgentKind::kDevice:
      return SIPRESOLVER_AGENT_PATH;
    case AgentKind::kDeviceX86:
      return SIPRESOLVER_SOURCE_DIR "/build/agent/x86_64/sipresolver-agent";
    case AgentKind::kDeviceArmhf:
      return SIPRESOLVER_SOURCE_DIR "/build/agent/armhf/sipresolver-agent";
  }
  return "";
}

std::vector<std::string> AgentCommand(AgentKind kind, const std::string& server,
                                      const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {AgentBinary(kind), "--server=" + server};
  if (kind == AgentKind::kWatch) argv.push_back("watch");
  if (kind == AgentKind::kDeviceArmhf)
    argv.insert(argv.begin(),
                {"/usr/bin/qemu-arm-static", "-L", "/usr/arm-linux-gnueabihf"});
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

}  // namespace sipresolver::testing
