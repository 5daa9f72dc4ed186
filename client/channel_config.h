// The gRPC channel agents use to reach the service, in one place for the
// CLI, the agent library's users and the benchmarks: round robin over every
// address the service's name resolves to (the headless Service's pods, as
// deploy/README.md tells agents to connect), and optionally gRPC client
// health checking, so that a replica reporting NOT_SERVING (draining after
// SIGTERM) gets no new streams.
#ifndef SIPRESOLVER_CLIENT_CHANNEL_CONFIG_H_
#define SIPRESOLVER_CLIENT_CHANNEL_CONFIG_H_

#include <string>

namespace sipresolver::client {

// The service config JSON: {"loadBalancingConfig":[{"round_robin":{}}]},
// with "healthCheckConfig":{"serviceName":""} when `health_check`.
std::string AgentServiceConfig(bool health_check);

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_CHANNEL_CONFIG_H_
