// Clients for the standard endpoints sipresolverd serves besides its own API,
// as operators reach them: grpc.health.v1.Health/Check, server reflection
// (what grpcurl uses) and the Prometheus /metrics page. The health and
// reflection protos are not packaged for C++ on Debian 12, so the few fields
// needed are encoded by hand over a generic stub.
#ifndef SIPRESOLVER_TESTS_SUPPORT_STANDARD_SERVICES_H_
#define SIPRESOLVER_TESTS_SUPPORT_STANDARD_SERVICES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace sipresolver::testing {

// The HealthCheckResponse.ServingStatus number: 1 SERVING, 2 NOT_SERVING.
absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& service);

// Service names listed by grpc.reflection.v1alpha.ServerReflection.
absl::StatusOr<std::vector<std::string>> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel);

// The body of GET http://127.0.0.1:PORT/PATH.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// The value of one sample in Prometheus text format, e.g.
// MetricValue(page, "sipresolver_rpcs_total{code=\"OK\",method=\"Resolve\"}").
// 0 when the sample is absent.
double MetricValue(const std::string& page, const std::string& sample);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_STANDARD_SERVICES_H_
