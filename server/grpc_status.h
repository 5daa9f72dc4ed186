// absl::Status to grpc::Status, for the gRPC layer only (the watchers and
// converters below it are free of gRPC types).
#ifndef SIPRESOLVER_SERVER_GRPC_STATUS_H_
#define SIPRESOLVER_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sipresolver::server {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_GRPC_STATUS_H_
