/* agent: sipresolver-agent's one thread. Keeps one WatchDecision stream to
 * the service and hands each new decision on (stdout, --output_file,
 * --hook), with the same behaviour as the C++ agent (client/agent.h and
 * `sipresolver watch`), so a device cannot tell them apart:
 *  - DecisionPolicy's rules (policy.h), resume with last_applied_version,
 *    applied_primary/applied_secondary on reconnect;
 *  - reconnects at once when the server asks (sipresolver-reconnect: now),
 *    else after exponential backoff with full jitter; a stream silent for
 *    --stall_timeout is broken; the service's name may have several
 *    addresses, tried in turn;
 *  - device reports from --report_socket go to the service with
 *    ReportObservation, and while the service is unreachable move the
 *    device down its candidates (client/local_failover.h); after
 *    --device_control_after without the service, control goes back to the
 *    device (DEVICE_CONTROL).
 * Everything runs from a poll() loop: the connection, the report socket,
 * the resolver child, hooks (SIGCHLD) and stop signals, each with the time
 * it next needs attention, so while nothing changes the agent sleeps until
 * the next heartbeat, keepalive or timeout. */
#ifndef SIPRESOLVER_AGENT_AGENT_H_
#define SIPRESOLVER_AGENT_AGENT_H_

#include "flags.h"

enum { EXIT_OK = 0, EXIT_RPC_ERROR = 1, EXIT_USAGE = 2 };

/* Runs until SIGINT/SIGTERM or --once (EXIT_OK), or until the service
 * refuses the profile for good (EXIT_RPC_ERROR: INVALID_ARGUMENT,
 * UNIMPLEMENTED). Checks the flags first (EXIT_USAGE). */
int agent_run(const struct agent_flags* flags);

#endif /* SIPRESOLVER_AGENT_AGENT_H_ */
