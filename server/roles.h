// Roles: agents may watch, report and resolve; operators may also list the
// probed servers (every tenant's domains, the service's egress address) and
// use server reflection. Under mutual TLS an operator is a client whose
// certificate identity (a subject alternative name, else the common name)
// matches one of --operator_identities; every other client is an agent.
// Without mutual TLS no client has an identity: every client may do
// everything, and the daemon says so loudly at start.
//
// Enforced for every call on the gRPC port by an AuthMetadataProcessor
// (RoleEnforcer), before any handler runs, so reflection is covered too.
#ifndef SIPRESOLVER_SERVER_ROLES_H_
#define SIPRESOLVER_SERVER_ROLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace sipresolver::server {

class RolePolicy {
 public:
  // --operator_identities: comma-separated patterns, "*" matching any run
  // of characters ("ops-*.example.com"). INVALID_ARGUMENT names an empty
  // or over-long pattern, or one that is only "*" (everyone an operator
  // is no role at all: say so by leaving mutual TLS off).
  static absl::StatusOr<RolePolicy> Parse(absl::string_view flag_value);

  // OK when a client with `identities` (a verified certificate's) may call
  // `method` ("/package.Service/Method"); PERMISSION_DENIED naming the
  // method and the rule otherwise.
  absl::Status Check(absl::string_view method,
                     const std::vector<std::string>& identities) const;

  bool IsOperator(const std::vector<std::string>& identities) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

// The identities a peer's verified certificate proves (SANs, else CN);
// empty when it presented none (plaintext, or TLS without client certs).
std::vector<std::string> CertificateIdentities(const grpc::AuthContext& auth);

// Whether only operators may call `method`: ListServers and reflection.
bool IsOperatorMethod(absl::string_view method);

// Applies `policy` to every call on a mutual TLS port.
std::shared_ptr<grpc::AuthMetadataProcessor> RoleEnforcer(RolePolicy policy);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_ROLES_H_
