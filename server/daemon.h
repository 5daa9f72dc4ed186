// Daemon: the whole sipresolverd process minus flag parsing and signals, so
// tests can run it in-process too.
//
// Owns, in order of construction: metrics, the event loop, the DNS stack
// (c-ares transport, cache, device resolver), the probing stack (SIP prober,
// health tracker), the decision hub, the gRPC service and server.
// Start() returns once everything listens; Shutdown() drains: health goes
// NOT_SERVING first, in-flight calls get `shutdown_grace` to finish, then the
// loop stops.
#ifndef SIPRESOLVER_SERVER_DAEMON_H_
#define SIPRESOLVER_SERVER_DAEMON_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/core/random.h"
#include "lib/dns/ares_transport.h"
#include "lib/dns/caching_resolver.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/credentials.h"
#include "lib/health/health_tracker.h"
#include "lib/sip/sip_prober.h"
#include "server/decision_hub.h"
#include "server/dns_face/dns_face.h"
#include "server/health_log.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/replica_fleet.h"
#include "server/roles.h"
#include "server/server_security.h"
#include "server/sip_resolver_service.h"
#include "server/watch_queues.h"

namespace sipresolver::server {

// Probing of the servers Resolve returns (S6). Nothing is probed unless
// `allow` (--probe_allow) admits it.
struct ProbeConfig {
  std::string allow;
  double rate_limit = 50;  // New probes per second, all endpoints together.
  std::string credentials_file;
  // How often credentials_file is read again (a rotated Secret).
  absl::Duration credentials_reload_interval = absl::Minutes(1);
  health::HealthOptions health;
  sip::ProberOptions prober;
};

struct DaemonConfig {
  std::string listen = "[::]:50051";
  TlsFiles tls;
  ConnectionPolicy connections;
  // A second, plaintext gRPC port serving only grpc.health.v1.Health, for
  // Kubernetes probes when the main port wants TLS client certificates.
  // Empty: none.
  std::string health_listen;
  // Under mutual TLS, who may also list servers and use reflection.
  RolePolicy roles;
  // Serve gRPC server reflection (grpcurl without the .proto files).
  bool reflection = true;
  std::string metrics_listen = "[::]:9464";
  dns::AresOptions dns;
  dns::CacheLimits cache;
  ServiceLimits service;
  ProbeConfig probe;
  WatchOptions watch;
  // Sharing with the other replicas through etcd; off without endpoints.
  FleetConfig fleet;
  // The DNS face for PowerDNS; off without a socket path.
  dns_face::FaceOptions dns_face;
  int max_request_bytes = 64 * 1024;
  // On shutdown, after health turns NOT_SERVING and before streams end:
  // time for load balancers to stop sending new calls.
  absl::Duration shutdown_drain_delay = absl::ZeroDuration();
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Completion queues (and threads) WatchDecision streams are spread over.
  int watch_queues = 16;
  // Process-wide (SetLogFormat); main applies it before Start.
  LogFormat log_format = LogFormat::kText;
};

// The service name health checks report on, besides "" (the whole server).
inline constexpr char kServiceName[] = "sipresolver.v1.SipResolver";

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(
      const DaemonConfig& config);
  ~Daemon();

  // Idempotent; safe from any thread except the event loop's.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_.port(); }
  int health_port() const { return health_port_; }

 private:
  explicit Daemon(const DaemonConfig& config);
  absl::Status StartProbing();
  // On the loop: re-reads the credentials file (applying a change), then
  // schedules the next look one --tls_reload_interval away.
  void ReloadCredentials();
  void ScheduleCredentialsReload();
  static void LogTrust(const DaemonConfig& config);
  absl::Status StartGrpc();
  void SetServing(bool serving);

  const DaemonConfig config_;
  RealClock clock_;
  WallClock wall_clock_;
  RealRandom random_;
  Metrics metrics_;
  HealthLog health_log_{metrics_};  // Logs health events, then counts them.
  EventLoop loop_;
  std::unique_ptr<dns::AresTransport> transport_;
  std::unique_ptr<dns::CachingResolver> dns_;
  std::unique_ptr<dns::DeviceResolver> resolver_;
  std::unique_ptr<sip::SipProber> prober_;
  std::unique_ptr<health::HealthTracker> health_;
  std::optional<health::CredentialsFile> credentials_file_;
  std::unique_ptr<Timer> credentials_timer_;  // Loop thread only.
  std::string credentials_error_;             // The last one logged: each once.
  std::unique_ptr<ReplicaFleet> fleet_;       // Null without --etcd_endpoints.
  std::unique_ptr<DecisionHub> hub_;
  std::unique_ptr<dns_face::DnsFace> dns_face_;  // Null without the flags.
  std::unique_ptr<SipResolverService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<WatchQueues> watch_queues_;
  std::unique_ptr<grpc::Server> health_server_;
  int grpc_port_ = 0;
  int health_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DAEMON_H_
