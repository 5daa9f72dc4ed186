// How sipresolverd's gRPC port faces the network: TLS or mutual TLS, and the
// HTTP/2 connection policy (keepalive tolerance for agents, connection age so
// long-lived streams rebalance onto new replicas).
#ifndef SIPRESOLVER_SERVER_SERVER_SECURITY_H_
#define SIPRESOLVER_SERVER_SERVER_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/roles.h"

namespace sipresolver::server {

struct TlsFiles {
  std::string cert_file;       // PEM chain. Empty (with key_file): plaintext.
  std::string key_file;        // PEM.
  std::string client_ca_file;  // Set: mutual TLS, clients must present a
                               // certificate this CA signed.
  // The files are watched and re-read this often: renewed certificates
  // (e.g. cert-manager) are picked up without a restart.
  absl::Duration reload_interval = absl::Minutes(1);
};

struct ConnectionPolicy {
  // Server pings an idle connection after this, and drops it if no answer
  // within keepalive_timeout: dead agents' streams do not linger.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Agents may ping this often, even without calls, without being cut off.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // 0: unlimited. Else connections are closed (GOAWAY, gRPC adds +/-10 %
  // jitter) after this age; streams get `max_connection_age_grace` to end.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Minutes(1);
};

// Plaintext when no files are set. INVALID_ARGUMENT when only one of
// cert/key is set or a file cannot be read (checked now: the file watcher
// would only log it). Under mutual TLS every call passes `roles` first.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& tls, const RolePolicy& roles);

// How sipresolverd reaches etcd (--etcd_tls_*): TLS when any file is set
// (without ca_file: the system CAs), mutual TLS with cert and key.
struct EtcdTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  absl::Duration reload_interval = absl::Minutes(1);  // As TlsFiles'.
};

// Null (plaintext) when no file is set. INVALID_ARGUMENT when only one of
// cert/key is set or a file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeEtcdCredentials(
    const EtcdTlsFiles& tls);

void ApplyConnectionPolicy(const ConnectionPolicy& policy,
                           grpc::ServerBuilder& builder);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_SERVER_SECURITY_H_
