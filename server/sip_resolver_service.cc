#include "server/sip_resolver_service.h"

#include "absl/strings/str_cat.h"
#include "server/api_convert.h"

namespace sipresolver::server {
namespace {

constexpr absl::string_view kResolve = "Resolve";

// A stream that ends at once with a status.
class FinishedWriter : public grpc::ServerWriteReactor<v1::Decision> {
 public:
  explicit FinishedWriter(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

grpc::Status NotYet(absl::string_view method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat(method, " is not implemented yet"));
}

}  // namespace

SipResolverService::SipResolverService(EventLoop& loop,
                                       dns::DeviceResolver& resolver,
                                       Metrics& metrics, const Clock& clock,
                                       const ServiceLimits& limits)
    : loop_(loop),
      resolver_(resolver),
      metrics_(metrics),
      clock_(clock),
      limits_(limits) {}

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
  if (pending_resolves_.fetch_add(1) >= limits_.max_pending_resolves) {
    pending_resolves_.fetch_sub(1);
    return Finish(context, kResolve,
                  grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "too many Resolve calls waiting on DNS; retry"));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = clock_.Now();
  loop_.Post([this, reactor, response, start, spec = *std::move(spec)] {
    resolver_.Resolve(spec, [this, reactor, response, start](
                                absl::Status status, dns::Resolution result) {
      if (status.ok()) ToResolveResponse(result, *response);
      const grpc::Status reply = ToGrpcStatus(WithLookups(status, result));
      metrics_.OnRpc(kResolve, reply.error_code());
      metrics_.OnResolveDone(clock_.Now() - start);
      pending_resolves_.fetch_sub(1);
      reactor->Finish(reply);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* SipResolverService::ListServers(
    grpc::CallbackServerContext* context, const v1::ListServersRequest*,
    v1::ListServersResponse*) {
  return Finish(context, "ListServers", NotYet("ListServers"));
}

grpc::ServerWriteReactor<v1::Decision>* SipResolverService::WatchDecision(
    grpc::CallbackServerContext*, const v1::WatchDecisionRequest*) {
  metrics_.OnRpc("WatchDecision", grpc::StatusCode::UNIMPLEMENTED);
  return new FinishedWriter(NotYet("WatchDecision"));
}

grpc::ServerUnaryReactor* SipResolverService::ReportObservation(
    grpc::CallbackServerContext* context, const v1::ReportObservationRequest*,
    v1::ReportObservationResponse*) {
  return Finish(context, "ReportObservation", NotYet("ReportObservation"));
}

}  // namespace sipresolver::server
