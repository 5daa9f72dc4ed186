#include "tests/support/agent_command.h"

namespace sipresolver::testing {

std::string AgentKindName(AgentKind kind) {
  switch (kind) {
    case AgentKind::kWatch:
      return "watch";
  }
  return "unknown";
}

void PrintTo(AgentKind kind, std::ostream* os) { *os << AgentKindName(kind); }

std::vector<std::string> WatchCommand(const AgentFlags& flags) {
  std::vector<std::string> argv = {SIPRESOLVER_CLI_PATH,
                                   "--server=" + flags.server, "watch",
                                   "--profile=" + flags.profile_json};
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"agent_id", flags.agent_id},
        {"hook", flags.hook},
        {"output_file", flags.output_file},
        {"report_socket", flags.report_socket},
        {"device_control_after", flags.device_control_after}}) {
    if (!value.empty()) argv.push_back("--" + std::string(name) + "=" + value);
  }
  return argv;
}

std::vector<std::string> AgentCommand(AgentKind kind, const AgentFlags& flags) {
  switch (kind) {
    case AgentKind::kWatch:
      return WatchCommand(flags);
  }
  return {};
}

}  // namespace sipresolver::testing
