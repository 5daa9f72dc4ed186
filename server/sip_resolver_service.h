// SipResolverService: the sipresolver.v1.SipResolver gRPC service.
//
// Uses gRPC's callback API, no thread per call, except for WatchDecision's
// long-lived streams, which WatchQueues serves on the async API and hands to
// StartWatch. Resolve and ListServers hand
// the request to the event loop, where resolver and health tracker live, and
// finish the call from there. Every candidate a Resolve returns is handed to
// the health tracker, which probes it if the operator's allowlist admits it.
// WatchDecision streams go to the DecisionHub. ReportObservation feeds
// aggregated metrics and re-probes servers agents failed to register with.
#ifndef SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_
#define SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_

#include <atomic>
#include <memory>

#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/core/random.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "server/decision_hub.h"
#include "server/metrics.h"
#include "server/observations.h"
#include "server/resolve_snapshots.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"

namespace sipresolver::server {

struct ServiceLimits {
  // Resolve calls waiting on DNS at once; more get RESOURCE_EXHAUSTED.
  int max_pending_resolves = 10000;
  // ReportObservation calls per minute per client connection.
  double max_reports_per_minute = 60;
  // A WatchDecision agent that takes no message for this long is cut off.
  absl::Duration max_stream_write_stall = absl::Seconds(90);
  // A repeated Resolve within this long is answered from the last
  // resolution, in an order drawn for it, without a trip through the event
  // loop (ResolveSnapshots); 0 turns it off.
  absl::Duration resolve_snapshot_age = absl::Milliseconds(250);
  size_t max_resolve_snapshots = 10000;
};

class DecisionStream;

// Every method on the callback API but WatchDecision (async).
using SipResolverServiceBase = v1::SipResolver::WithCallbackMethod_Resolve<
    v1::SipResolver::WithCallbackMethod_ListServers<
        v1::SipResolver::WithCallbackMethod_ReportObservation<
            v1::SipResolver::WithAsyncMethod_WatchDecision<
                v1::SipResolver::Service>>>>;

class SipResolverService final : public SipResolverServiceBase {
 public:
  // Everything passed in must outlive the gRPC server.
  SipResolverService(EventLoop& loop, dns::DeviceResolver& resolver,
                     health::HealthTracker& health, DecisionHub& hub,
                     Metrics& metrics, const Clock& clock, Random& random,
                     const ServiceLimits& limits);

  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::ResolveRequest* request,
                                    v1::ResolveResponse* response) override;
  grpc::ServerUnaryReactor* ListServers(
      grpc::CallbackServerContext* context,
      const v1::ListServersRequest* request,
      v1::ListServersResponse* response) override;
  // A WatchDecision call arrived (WatchQueues): checks the request and
  // subscribes the stream, or ends it with the reason.
  void StartWatch(const std::shared_ptr<DecisionStream>& stream);
  // gRPC is done with a WatchDecision call (any thread).
  void EndWatch(DecisionStream* stream);
  // Shutting down: a WatchDecision call from now on is ended at once, asking
  // the agent to reconnect (to another replica), instead of being served
  // until the grace period runs out. Before the hub ends the streams.
  void StopWatches() { draining_ = true; }
  grpc::ServerUnaryReactor* ReportObservation(
      grpc::CallbackServerContext* context,
      const v1::ReportObservationRequest* request,
      v1::ReportObservationResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                   absl::string_view method,
                                   const grpc::Status& status);

  void ShowKnownHealth(const dns::ServerSpec& spec,
                       v1::ResolveResponse& response) const;

  EventLoop& loop_;
  dns::DeviceResolver& resolver_;
  health::HealthTracker& health_;
  DecisionHub& hub_;
  Metrics& metrics_;
  const Clock& clock_;
  const ServiceLimits limits_;
  std::atomic<int> pending_resolves_{0};
  std::atomic<bool> draining_{false};
  ResolveSnapshots snapshots_;
  ReportLimiter report_limiter_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_SIP_RESOLVER_SERVICE_H_
