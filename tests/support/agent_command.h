// AgentCommand: a device agent's command line for end-to-end tests, built
// from one description, so that a test runs unchanged against each kind of
// agent. Both agents keep the same hook and file contract and the same
// rules without the service; only how they are started differs.
//
// Today one kind: `sipresolver watch` (the C++ agent library). The
// device-sized `sipresolver-agent` (client/device) is meant to be added as
// a second AgentKind; parameterised tests then cover it by adding the value
// to their INSTANTIATE_TEST_SUITE_P.
#ifndef SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
#define SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace sipresolver::testing {

enum class AgentKind { kWatch };

// "watch": for test names.
std::string AgentKindName(AgentKind kind);
// gtest prints a parameter with this (and ctest lists it so).
void PrintTo(AgentKind kind, std::ostream* os);

// What a test asks of an agent; empty fields are left to the agent's
// defaults.
struct AgentFlags {
  std::string server;        // sipresolverd's HOST:PORT.
  std::string profile_json;  // The ItspProfile as JSON.
  std::string agent_id;
  std::string hook;                  // A /bin/sh command.
  std::string output_file;           // The decision file.
  std::string report_socket;         // The unix datagram socket for reports.
  std::string device_control_after;  // A duration, e.g. "2s".
};

// `sipresolver --server=... watch --profile=... ...`.
std::vector<std::string> WatchCommand(const AgentFlags& flags);

// The command line of an agent of `kind`.
std::vector<std::string> AgentCommand(AgentKind kind, const AgentFlags& flags);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_AGENT_COMMAND_H_
