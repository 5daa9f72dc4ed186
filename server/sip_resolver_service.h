// SipResolverService: the sipresolver.v1.SipResolver gRPC service.
//
// Uses gRPC's callback API: no thread per call. Resolve and ListServers hand
// the request to the event loop, where resolver and health tracker live, and
// finish the call from there. Every candidate a Resolve returns is handed to
// the health tracker, which probes it if the operator's allowlist admits it.
// WatchDecision streams go to the DecisionHub. ReportObservation feeds
// aggregated metrics and re-probes servers agents failed to register with.
#ifndef SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_
#define SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_

#include <atomic>

#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "server/decision_hub.h"
#include "server/metrics.h"
#include "server/observations.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::server {

struct ServiceLimits {
  // Resolve calls waiting on DNS at once; more get RESOURCE_EXHAUSTED.
  int max_pending_resolves = 10000;
  // ReportObservation calls per minute per client connection.
  double max_reports_per_minute = 60;
  // A WatchDecision agent that takes no message for this long is cut off.
  absl::Duration max_stream_write_stall = absl::Seconds(90);
};

class SipResolverService final : public v1::SipResolver::CallbackService {
 public:
  // Everything passed in must outlive the gRPC server.
  SipResolverService(EventLoop& loop, dns::DeviceResolver& resolver,
                     health::HealthTracker& health, DecisionHub& hub,
                     Metrics& metrics, const Clock& clock,
                     const ServiceLimits& limits);

  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::ResolveRequest* request,
                                    v1::ResolveResponse* response) override;
  grpc::ServerUnaryReactor* ListServers(
      grpc::CallbackServerContext* context,
      const v1::ListServersRequest* request,
      v1::ListServersResponse* response) override;
  grpc::ServerWriteReactor<v1::Decision>* WatchDecision(
      grpc::CallbackServerContext* context,
      const v1::WatchDecisionRequest* request) override;
  grpc::ServerUnaryReactor* ReportObservation(
      grpc::CallbackServerContext* context,
      const v1::ReportObservationRequest* request,
      v1::ReportObservationResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                   absl::string_view method,
                                   const grpc::Status& status);

  EventLoop& loop_;
  void TrackCandidates(const dns::ServerSpec& spec,
                       v1::ResolveResponse& response);

  dns::DeviceResolver& resolver_;
  health::HealthTracker& health_;
  DecisionHub& hub_;
  Metrics& metrics_;
  const Clock& clock_;
  const ServiceLimits limits_;
  std::atomic<int> pending_resolves_{0};
  ReportLimiter report_limiter_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_
