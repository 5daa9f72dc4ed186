// DecisionSink: where a profile watcher sends one agent's decisions. In the
// daemon it is the agent's WatchDecision stream (DecisionStream); unit tests
// record what arrives. Free of gRPC types, so the watchers are too.
#ifndef SIPRESOLVER_SERVER_DECISION_SINK_H_
#define SIPRESOLVER_SERVER_DECISION_SINK_H_

#include "absl/status/status.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;

  // A newer decision replaces one not yet sent; a heartbeat is sent only when
  // nothing waits. Both return false when the agent was found stalled and its
  // call is being cancelled.
  virtual bool Offer(v1::Decision decision) = 0;
  virtual bool OfferHeartbeat(v1::Decision heartbeat) = 0;
  // Ends the call with `status` once what is being sent is out; with
  // `reconnect_now`, the agent is told to reconnect at once (shutdown).
  virtual void End(const absl::Status& status, bool reconnect_now) = 0;
  // For an ended call, which gets no more offers: cancels it if its last
  // write has stalled, as Offer would (and returns false then).
  virtual bool CancelIfStalled() = 0;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_SINK_H_
