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

std::string DeviceBuildPath(const std::string& arch) {
  return SIPRESOLVER_SOURCE_DIR "/build/agent/" + arch + "/sipresolver-agent";
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
    case AgentKind::kDeviceX86:
      argv = {DeviceBuildPath("x86_64"), "--server=" + server};
      break;
    case AgentKind::kDeviceArmhf:
      argv = {"/usr/bin/qemu-arm-static", "-L", "/usr/arm-linux-gnueabihf",
              DeviceBuildPath("armhf"), "--server=" + server};
      break;
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

}  // namespace sipresolver::testing
