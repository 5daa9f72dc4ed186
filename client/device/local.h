/* local: the decisions the agent makes on its own while the service is
 * unreachable (client/local_failover.h has the rules), built from the last
 * decision it holds, in the same form as `sipresolver watch` builds them. */
#ifndef SIPRESOLVER_AGENT_LOCAL_H_
#define SIPRESOLVER_AGENT_LOCAL_H_

#include <stdint.h>

#include "device_report.h"
#include "local_failover.h"
#include "messages.h"
#include "output.h"

/* The device reported `report` while the agent is without the service and
 * holds `held` (not in device control): the local decision when the report
 * moved the primary or secondary by the rules of client/local_failover.h
 * (`state` keeps the failures since the service was lost), else NULL. */
Decision* local_on_report(struct lf_state* state, const Decision* held,
                          const ItspProfile* profile,
                          const struct device_report* report);

/* `held` with candidates `primary` and `secondary` (indices into its
 * candidates; LF_NONE for no secondary) as primary and secondary, after the
 * device reported `report` failing: ACTIVE, unconfirmed, the primary
 * fallback list redone, the keep-alive target following the primary when
 * it went to the primary (N2), and a reason saying why. NULL when out of
 * memory. */
Decision* local_failover_decision(const Decision* held, int primary,
                                  int secondary,
                                  const struct device_report* report);

/* `held` handed back to the device after `after_ms` without the service:
 * DEVICE_CONTROL, no servers, the candidates kept for reference. */
Decision* local_device_control_decision(const Decision* held,
                                        const struct profile_server* server,
                                        int64_t after_ms);

#endif /* SIPRESOLVER_AGENT_LOCAL_H_ */
