#include "server/sip_resolver_service.h"

#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"
#include "server/api_convert.h"
#include "server/client_identity.h"
#include "server/decision_convert.h"
#include "server/decision_stream.h"
#include "server/grpc_status.h"
#include "server/roles.h"

namespace sipresolver::server {
namespace {

constexpr absl::string_view kResolve = "Resolve";

// `spec` asking for every candidate, so that a snapshot can draw the answer
// of a call without redundancy too (S4 keeps the first of each draw). An IP
// literal keeps its own spec: it has one candidate, and redundancy with one
// is INVALID_ARGUMENT (S5).
dns::ServerSpec EveryCandidate(dns::ServerSpec spec) {
  if (!dns::ParseIpLiteral(spec.server)) spec.redundancy = true;
  return spec;
}

// The caller, as ClientIdentity sees it: its verified certificate's
// identity, else its address.
std::string CallerIdentity(const grpc::CallbackServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  return ClientIdentity(auth != nullptr ? CertificateIdentities(*auth)
                                        : std::vector<std::string>{},
                        context.peer());
}

}  // namespace

SipResolverService::SipResolverService(EventLoop& loop,
                                       dns::DeviceResolver& resolver,
                                       health::HealthTracker& health,
                                       DecisionHub& hub, Metrics& metrics,
                                       const Clock& clock, Random& random,
                                       const ServiceLimits& limits)
    : loop_(loop),
      resolver_(resolver),
      health_(health),
      hub_(hub),
      metrics_(metrics),
      clock_(clock),
      limits_(limits),
      snapshots_(limits.resolve_snapshot_age, limits.max_resolve_snapshots,
                 random),
      report_limiter_(limits.max_reports_per_minute) {}

grpc::ServerUnaryReactor* SipResolverService::Finish(
    grpc::CallbackServerContext* context, absl::string_view method,
    const grpc::Status& status) {
  metrics_.OnRpc(method, status.error_code());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* SipResolverService::Resolve(
    grpc::CallbackServerContext* context, const v1::ResolveRequest* request,
    v1::ResolveResponse* response) {
  absl::StatusOr<dns::ServerSpec> spec = ToServerSpec(*request);
  if (!spec.ok()) return Finish(context, kResolve, ToGrpcStatus(spec.status()));
  const absl::Time start = clock_.Now();
  if (snapshots_.Answer(*spec, start, *response)) {
    metrics_.OnResolveDone(clock_.Now() - start);
    return Finish(context, kResolve, grpc::Status::OK);
  }
  if (pending_resolves_.fetch_add(1) >= limits_.max_pending_resolves) {
    pending_resolves_.fetch_sub(1);
    return Finish(context, kResolve,
                  grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "too many Resolve calls waiting on DNS; retry"));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  loop_.Post([this, reactor, response, start, spec = *std::move(spec)] {
    resolver_.Resolve(
        EveryCandidate(spec),
        [this, reactor, response, start, spec](const absl::Status& status,
                                               const dns::Resolution& result) {
          if (status.ok()) {
            ToResolveResponse(result, *response);
            ShowKnownHealth(spec, *response);
            snapshots_.Put(spec, *response, clock_.Now());
            if (!spec.redundancy) {  // S4: the first address only.
              response->mutable_candidates()->DeleteSubrange(
                  1, response->candidates_size() - 1);
            }
          }
          const grpc::Status reply = ToGrpcStatus(WithLookups(status, result));
          metrics_.OnRpc(kResolve, reply.error_code());
          metrics_.OnResolveDone(clock_.Now() - start);
          pending_resolves_.fetch_sub(1);
          reactor->Finish(reply);
        });
  });
  return reactor;
}

// Loop thread. Candidates show the health the tracker already has, from
// the watchers that need them; Resolve itself never creates a probe. A
// lookup is anyone's to ask, a probe is a packet to an ITSP: one client
// resolving many literals and ports must not use up the probe caps, make
// the prober scan an ITSP's ports, or drag the panic ratio down for every
// agent.
void SipResolverService::ShowKnownHealth(const dns::ServerSpec& spec,
                                         v1::ResolveResponse& response) const {
  const absl::Time clock_now = clock_.Now(), wall_now = absl::Now();
  for (v1::Candidate& candidate : *response.mutable_candidates()) {
    const sip::Endpoint endpoint{candidate.address(),
                                 static_cast<uint16_t>(candidate.port()),
                                 spec.transport};
    if (auto status = health_.Get(endpoint)) {
      ToEndpointHealth(*status, clock_now, wall_now,
                       *candidate.mutable_health());
    }
  }
}

grpc::ServerUnaryReactor* SipResolverService::ListServers(
    grpc::CallbackServerContext* context, const v1::ListServersRequest*,
    v1::ListServersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  loop_.Post([this, reactor, response] {
    const absl::Time clock_now = clock_.Now(), wall_now = absl::Now();
    for (const health::EndpointStatus& status : health_.List()) {
      ToServerStatus(status, clock_now, wall_now, *response->add_servers());
    }
    response->set_probe_path_suspect(health_.probe_path_suspect());
    response->set_probe_healthy_ratio(health_.probe_healthy_ratio());
    metrics_.OnRpc("ListServers", grpc::StatusCode::OK);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

void SipResolverService::StartWatch(
    const std::shared_ptr<DecisionStream>& stream) {
  absl::StatusOr<WatchRequest> watch = ToWatchRequest(stream->request());
  if (!watch.ok()) {
    metrics_.OnRpc("WatchDecision", static_cast<int>(watch.status().code()));
    stream->End(watch.status(), /*reconnect_now=*/false);
    return;
  }
  loop_.Post([this, stream, watch = *std::move(watch), peer = stream->peer()] {
    // Checked on the loop: the hub's EndAll runs there after draining_ is
    // set, so no stream subscribes after it.
    if (draining_) {
      metrics_.OnRpc("WatchDecision", grpc::StatusCode::UNAVAILABLE);
      stream->End(absl::UnavailableError("server shutting down; reconnect"),
                  /*reconnect_now=*/true);
      return;
    }
    absl::Status s = hub_.Subscribe(stream, watch, peer);
    metrics_.OnRpc("WatchDecision", static_cast<int>(s.code()));
    if (!s.ok()) stream->End(s, /*reconnect_now=*/false);
  });
}

void SipResolverService::EndWatch(DecisionStream* stream) {
  // The hub lets go of the stream; it may already be gone from the hub.
  loop_.Post([this, stream] { hub_.Unsubscribe(stream); });
}

grpc::ServerUnaryReactor* SipResolverService::ReportObservation(
    grpc::CallbackServerContext* context,
    const v1::ReportObservationRequest* request,
    v1::ReportObservationResponse* response) {
  constexpr absl::string_view kMethod = "ReportObservation";
  if (absl::Status s = ValidateObservation(*request); !s.ok()) {
    return Finish(context, kMethod, ToGrpcStatus(s));
  }
  const std::string client = CallerIdentity(*context);
  if (!report_limiter_.Allow(client, absl::Now())) {
    return Finish(context, kMethod,
                  grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "too many reports from this client; slow down"));
  }
  if (request->has_mapped_address()) {
    const v1::MappedAddress& m = request->mapped_address();
    const bool behind_nat =
        !m.local_address().empty() &&
        (m.local_address() != m.address() || m.local_port() != m.port());
    metrics_.OnMappingReport(
        m.method() == v1::MAPPING_METHOD_STUN ? "stun" : "via", behind_nat,
        m.changed());
  }
  // Device evidence: one reporter is the agent id AND the client identity,
  // so neither many ids from one client nor one id from many clients make a
  // quorum.
  const health::Reporter reporter =
      health::Reporter::Of(request->agent_id(), client);
  std::vector<std::pair<sip::Endpoint, bool>> outcomes;
  for (const v1::RegistrationOutcome& o : request->registrations()) {
    const bool ok = o.status_code() >= 200 && o.status_code() < 300;
    metrics_.OnRegistrationReport(ok);
    outcomes.emplace_back(
        sip::Endpoint{*dns::ParseIpLiteral(o.server().address()),
                      static_cast<uint16_t>(o.server().port()),
                      *FromProto(o.server().transport(), "transport")},
        ok);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  loop_.Post([this, reactor, response, reporter,
              outcomes = std::move(outcomes)] {
    uint32_t reprobes = 0;
    for (const auto& [endpoint, ok] : outcomes) {
      reprobes += health_.ReportRegistration(endpoint, reporter, ok) ? 1 : 0;
    }
    response->set_reprobes_scheduled(reprobes);
    metrics_.OnRpc("ReportObservation", grpc::StatusCode::OK);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace sipresolver::server
