#include "server/server_security.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace sipresolver::server {
namespace {

absl::Status Readable(const std::string& path, absl::string_view flag) {
  std::ifstream in(path);
  if (!in || in.peek() == std::ifstream::traits_type::eof()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read a PEM file at ", path));
  }
  return absl::OkStatus();
}

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& tls, const RolePolicy& roles) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_client_ca_file: mutual TLS needs --tls_cert_file and "
          "--tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file and tls_key_file: set both or neither");
  }
  for (const auto& [path, flag] : {std::pair{tls.cert_file, "tls_cert_file"},
                                   std::pair{tls.key_file, "tls_key_file"}}) {
    if (absl::Status s = Readable(path, flag); !s.ok()) return s;
  }
  if (!tls.client_ca_file.empty()) {
    if (absl::Status s = Readable(tls.client_ca_file, "tls_client_ca_file");
        !s.ok()) {
      return s;
    }
  }
  const unsigned refresh = static_cast<unsigned>(
      std::max<int64_t>(1, absl::ToInt64Seconds(tls.reload_interval)));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          tls.key_file, tls.cert_file, tls.client_ca_file, refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (!tls.client_ca_file.empty()) {
    credentials->SetAuthMetadataProcessor(RoleEnforcer(roles));
  }
  return credentials;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeEtcdCredentials(
    const EtcdTlsFiles& tls) {
  if (tls.ca_file.empty() && tls.cert_file.empty() && tls.key_file.empty()) {
    return std::shared_ptr<grpc::ChannelCredentials>();
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "etcd_tls_cert_file and etcd_tls_key_file: set both or neither");
  }
  for (const auto& [path, flag] :
       {std::pair(tls.ca_file, "etcd_tls_ca_file"),
        std::pair(tls.cert_file, "etcd_tls_cert_file"),
        std::pair(tls.key_file, "etcd_tls_key_file")}) {
    if (path.empty()) continue;
    if (absl::Status s = Readable(path, flag); !s.ok()) return s;
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          tls.key_file, tls.cert_file, tls.ca_file,
          std::max<int64_t>(1, absl::ToInt64Seconds(tls.reload_interval))));
  if (!tls.ca_file.empty()) options.watch_root_certs();
  if (!tls.cert_file.empty()) options.watch_identity_key_cert_pairs();
  return grpc::experimental::TlsCredentials(options);
}

void ApplyConnectionPolicy(const ConnectionPolicy& p,
                           grpc::ServerBuilder& builder) {
  // gRPC's SO_REUSEPORT would let a second daemon on the same port start
  // and silently take part of the agents: a port in use is an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(p.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(p.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(p.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  if (p.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               Millis(p.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               Millis(p.max_connection_age_grace));
  }
}

}  // namespace sipresolver::server
