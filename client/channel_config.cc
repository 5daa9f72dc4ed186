#include "client/channel_config.h"

namespace sipresolver::client {

std::string AgentServiceConfig(bool health_check) {
  return health_check ? R"({"loadBalancingConfig":[{"round_robin":{}}],)"
                        R"("healthCheckConfig":{"serviceName":""}})"
                      : R"({"loadBalancingConfig":[{"round_robin":{}}]})";
}

}  // namespace sipresolver::client
