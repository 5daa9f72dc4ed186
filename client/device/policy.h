/* policy: what the agent does with each decision its stream brings, the
 * same rules as the C++ agent's DecisionPolicy (client/decision_policy.h):
 *  - a new stream's SEARCHING is not handed on while a decision is held (a
 *    server that has just started, or another replica, knows less); a
 *    SEARCHING after a real decision on the same stream is;
 *  - fail static: an ASSURANCE_UNCONFIRMED decision never moves the agent
 *    off the primary (and secondary) it holds while they are candidates;
 *  - a decision is new to the device only when more than its version,
 *    heartbeat flag, reason, generation time or remaining TTLs changed. */
#ifndef SIPRESOLVER_AGENT_POLICY_H_
#define SIPRESOLVER_AGENT_POLICY_H_

#include "messages.h"

struct policy {
  int stream_decided; /* The current stream sent more than SEARCHING. */
};

/* A new stream begins: its SEARCHING is hidden until it decides. */
void policy_new_stream(struct policy* p);

/* The decision to hold for `incoming` (owned: returned, maybe changed, or
 * freed), given the one `held` (NULL for none); NULL to ignore it.
 * Heartbeats are the caller's to skip. */
Decision* policy_accept(struct policy* p, const Decision* held,
                        Decision* incoming);

/* Same decision for a device (see above). */
int decision_same(const Decision* a, const Decision* b);

#endif /* SIPRESOLVER_AGENT_POLICY_H_ */
