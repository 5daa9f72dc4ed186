// DecisionPolicy: what an agent does with each decision its stream brings,
// kept apart from the stream so that it is unit-tested without a server.
//
//  - A stream that has not yet sent a decision beyond SEARCHING (a server
//    that has just started, or another replica) knows less than the decision
//    the agent holds: its SEARCHING is not handed on. A SEARCHING after a
//    real decision on the same stream is (the primary was lost and the next
//    candidate is still being tried).
//  - Fail static: an ASSURANCE_UNCONFIRMED decision never moves the agent
//    off the primary (and secondary) it holds while they are still
//    candidates: the service cannot confirm anything, so the device keeps
//    what it registered with. This holds across reconnects and replicas,
//    which do not know what this agent applied.
//
// Not thread-safe; one per stream loop.
#ifndef SIPRESOLVER_CLIENT_DECISION_POLICY_H_
#define SIPRESOLVER_CLIENT_DECISION_POLICY_H_

#include <optional>

#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::client {

// Same decision for a device: everything but version, heartbeat, reason,
// generated_at and the candidates' TTLs. The wire form of the engine's
// decision::SameContent (same_decision_parity_test holds them together).
bool SameDecision(const v1::Decision& a, const v1::Decision& b);

class DecisionPolicy {
 public:
  // A new stream begins: its SEARCHING is hidden until it decides.
  void OnNewStream() { stream_decided_ = false; }

  // The decision to hold for `incoming` given the one `held`; nullopt to
  // ignore `incoming`. Heartbeats are the caller's to skip, and whether the
  // result changes anything for the device is SameDecision's to say.
  std::optional<v1::Decision> Accept(const std::optional<v1::Decision>& held,
                                     v1::Decision incoming);

 private:
  bool stream_decided_ = false;
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_DECISION_POLICY_H_
