// gRPC status to absl, shared by the etcd client's parts.
#ifndef SIPRESOLVER_SERVER_ETCD_ETCD_STATUS_H_
#define SIPRESOLVER_SERVER_ETCD_ETCD_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace sipresolver::etcd {

// gRPC and absl number their codes alike. `what` names the operation.
inline absl::Status FromGrpc(const grpc::Status& status,
                             absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(
      static_cast<absl::StatusCode>(status.error_code()),
      absl::StrCat("etcd ", what, ": ", status.error_message()));
}

}  // namespace sipresolver::etcd

#endif  // SIPRESOLVER_SERVER_ETCD_ETCD_STATUS_H_
