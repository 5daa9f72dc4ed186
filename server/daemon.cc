#include "server/daemon.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/log.h"

namespace sipresolver::server {

Daemon::Daemon(const DaemonConfig& config) : config_(config) {}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(
    const DaemonConfig& config) {
  std::unique_ptr<Daemon> d(new Daemon(config));
  if (absl::Status s = d->metrics_.Serve(config.metrics_listen); !s.ok()) {
    return s;
  }
  d->metrics_.SetStreamLimit(config.watch.max_streams);
  auto transport =
      dns::AresTransport::Create(d->loop_.io_context(), config.dns);
  if (!transport.ok()) return transport.status();
  d->transport_ = *std::move(transport);
  d->dns_ = std::make_unique<dns::CachingResolver>(*d->transport_, d->clock_,
                                                   config.cache, &d->metrics_);
  d->resolver_ = std::make_unique<dns::DeviceResolver>(*d->dns_, d->random_);
  if (absl::Status s = d->StartProbing(); !s.ok()) return s;
  d->hub_ = std::make_unique<DecisionHub>(
      WatcherContext{d->loop_, *d->resolver_, *d->health_, d->clock_,
                     d->wall_clock_, d->metrics_, d->config_.watch});
  d->service_ = std::make_unique<SipResolverService>(
      d->loop_, *d->resolver_, *d->health_, *d->hub_, d->metrics_, d->clock_,
      d->random_, config.service);
  d->loop_.Start();
  if (!config.fleet.etcd_endpoints.empty()) {
    auto fleet = ReplicaFleet::Start(
        config.fleet, d->loop_, d->metrics_, *d->health_,
        config.probe.health.intervals.interval, d->wall_clock_);
    if (!fleet.ok()) return fleet.status();
    d->fleet_ = *std::move(fleet);
  }
  if (!config.dns_face.socket_path.empty()) {
    auto face = dns_face::DnsFace::Start(config.dns_face, d->loop_, *d->hub_,
                                         *d->health_, d->metrics_);
    if (!face.ok()) return face.status();
    d->dns_face_ = *std::move(face);
  }
  if (d->credentials_file_) {
    // Just read: the first check is one interval away.
    d->loop_.Post([d = d.get()] { d->ScheduleCredentialsReload(); });
  }

  if (absl::Status s = d->StartGrpc(); !s.ok()) return s;
  d->SetServing(true);
  Log("serving gRPC",
      {{"version", SIPRESOLVER_VERSION},
       {"listen", config.listen},
       {"port", d->grpc_port_},
       {"tls", config.tls.cert_file.empty()        ? "off"
               : config.tls.client_ca_file.empty() ? "on"
                                                   : "mutual"},
       {"metrics_listen", config.metrics_listen},
       {"metrics_port", d->metrics_port()},
       {"dns_servers",
        config.dns.servers.empty() ? "/etc/resolv.conf" : config.dns.servers}});
  LogTrust(config);
  return d;
}

namespace {

// gRPC's reflection plugin, once registered, joins every builder;
// --reflection=false takes it out of this one.
class NoReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& plugin) {
                                    return plugin->name() ==
                                           "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

}  // namespace

// Who may do what, said at start where an operator looks: without mutual
// TLS the service trusts whoever connects.
void Daemon::LogTrust(const DaemonConfig& config) {
  if (config.tls.client_ca_file.empty()) {
    Log(Severity::kWarning,
        "no mutual TLS: every client may list servers and use "
        "reflection, and device evidence counts clients by address (one "
        "NAT is one client); set --tls_client_ca_file and "
        "--operator_identities",
        {{"reflection", config.reflection ? "on" : "off"}});
    return;
  }
  Log("roles: operators may list servers and use reflection",
      {{"operator_identities",
        config.roles.patterns().empty()
            ? "(none: no client may)"
            : absl::StrJoin(config.roles.patterns(), ",")},
       {"reflection", config.reflection ? "on" : "off"}});
}

absl::Status Daemon::StartGrpc() {
  auto credentials = MakeServerCredentials(config_.tls, config_.roles);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config_.reflection) builder.SetOption(std::make_unique<NoReflection>());
  builder.AddListeningPort(config_.listen, *credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(config_.max_request_bytes);
  ApplyConnectionPolicy(config_.connections, builder);
  builder.RegisterService(service_.get());
  watch_queues_ =
      std::make_unique<WatchQueues>(builder, *service_, config_.watch_queues);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("listen: cannot serve gRPC on ", config_.listen));
  }
  watch_queues_->Start(
      [this](const std::shared_ptr<DecisionStream>& s) {
        service_->StartWatch(s);
      },
      [this](DecisionStream* s) { service_->EndWatch(s); }, clock_,
      config_.service.max_stream_write_stall);
  if (config_.health_listen.empty()) return absl::OkStatus();
  // Only the default health service: nothing else is reachable without TLS.
  grpc::ServerBuilder health;
  health.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // As the API's.
  health.AddListeningPort(config_.health_listen,
                          grpc::InsecureServerCredentials(), &health_port_);
  health_server_ = health.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    health_server_.reset();
    return absl::UnavailableError(
        absl::StrCat("health_listen: cannot serve on ", config_.health_listen));
  }
  Log("serving plaintext health checks",
      {{"health_listen", config_.health_listen}, {"port", health_port_}});
  return absl::OkStatus();
}

void Daemon::SetServing(bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    if (serving) {
      s->GetHealthCheckService()->SetServingStatus(kServiceName, true);
    } else {
      // Every service, "" included, reports NOT_SERVING from here on.
      s->GetHealthCheckService()->Shutdown();
    }
  }
  metrics_.SetServing(serving);
}

absl::Status Daemon::StartProbing() {
  const ProbeConfig& probe = config_.probe;
  auto policy = health::ProbePolicy::Parse(probe.allow);
  if (!policy.ok()) return policy.status();
  auto limiter = health::RateLimiter::Create(probe.rate_limit, probe.rate_limit,
                                             clock_.Now());
  if (!limiter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("probe_rate_limit: ", limiter.status().message()));
  }
  health::CredentialStore credentials;
  if (!probe.credentials_file.empty()) {
    auto file = health::CredentialsFile::Load(probe.credentials_file);
    if (!file.ok()) return file.status();
    credentials = file->store();
    credentials_file_ = *std::move(file);
  }
  // The count only: never a username or password of the credentials file.
  Log("probing", {{"probe_allow", policy->ToString()},
                  {"credential_domains", credentials.size()}});
  prober_ = std::make_unique<sip::SipProber>(loop_.io_context(), loop_, clock_,
                                             random_, probe.prober);
  health_ = std::make_unique<health::HealthTracker>(
      *prober_, loop_, clock_, random_, *std::move(policy), *std::move(limiter),
      std::move(credentials), probe.health, &health_log_);
  return absl::OkStatus();
}

void Daemon::ReloadCredentials() {
  absl::StatusOr<std::optional<health::CredentialStore>> changed =
      credentials_file_->Reload();
  if (!changed.ok()) {
    // Mid-rotation or a bad edit: the credentials in use stay. The message
    // names the line, never its content.
    if (credentials_error_ != changed.status().message()) {
      credentials_error_ = std::string(changed.status().message());
      Log(Severity::kWarning,
          "probe credentials file not reloaded; the credentials in use stay",
          {{"error", credentials_error_}});
    }
  } else if (changed->has_value()) {
    credentials_error_.clear();
    Log("probe credentials reloaded",
        {{"credential_domains", (*changed)->size()}});
    health_->SetCredentials(**std::move(changed));
  }
  ScheduleCredentialsReload();
}

void Daemon::ScheduleCredentialsReload() {
  credentials_timer_ = loop_.After(config_.probe.credentials_reload_interval,
                                   [this] { ReloadCredentials(); });
}

Daemon::~Daemon() { Shutdown(); }

void Daemon::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) {
    Log("shutting down: health NOT_SERVING, draining calls",
        {{"drain_delay", absl::FormatDuration(config_.shutdown_drain_delay)},
         {"grace", absl::FormatDuration(config_.shutdown_grace)}});
    SetServing(false);
    absl::SleepFor(config_.shutdown_drain_delay);
    // Agents reconnect (to another replica) on UNAVAILABLE at once; one that
    // lands here again is sent on at once too.
    service_->StopWatches();
    loop_.RunSync([this] {
      hub_->EndAll(absl::UnavailableError("server shutting down; reconnect"));
    });
    server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.shutdown_grace));
  }
  // After the server's shutdown, which ends every call: nothing is left for
  // a queue but to drain.
  if (watch_queues_) watch_queues_->Shutdown();
  if (health_server_) health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  if (fleet_) fleet_->Stop();  // Leaves at once rather than one TTL later.
  dns_face_.reset();           // Answered from the last decisions until here.
  loop_.RunSync([this] {
    credentials_timer_.reset();
    if (transport_) transport_->CancelAll();
  });
  loop_.Stop();
  Log("stopped");
}

}  // namespace sipresolver::server
