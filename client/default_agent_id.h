// DefaultAgentId: the agent id `sipresolver watch` and `sipresolver report`
// use without --agent_id, the same one sipresolver-agent derives
// (client/agent_id.h): the machine id hashed, never the host name.
#ifndef SIPRESOLVER_CLIENT_DEFAULT_AGENT_ID_H_
#define SIPRESOLVER_CLIENT_DEFAULT_AGENT_ID_H_

#include <string>

#include "absl/status/statusor.h"

namespace sipresolver::client {

// From the machine id in the file at `path`; INVALID_ARGUMENT saying that
// --agent_id is required when the file holds none.
absl::StatusOr<std::string> DefaultAgentId(
    const std::string& path = "/etc/machine-id");

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_DEFAULT_AGENT_ID_H_
