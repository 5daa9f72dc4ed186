/* local_failover: what an agent does on its own when the service is gone
 * and the device reports that a registration failed. Both agents use it
 * (the device-sized sipresolver-agent in C and the C++ agent library), so a
 * device cannot tell them apart.
 *
 * Without the service, an agent holding a decision would pin its device to
 * an address nobody checks any more: if that registrar then dies, the device
 * stays on a dead server where alone it would have moved on. So while the
 * agent has no stream that delivers decisions, a failed REGISTER the device
 * reports moves it the way the device's own redundancy would (S6-S10),
 * down the candidates of the last decision in their order:
 *  - the primary failed: the secondary, if there is one, becomes primary at
 *    once (S10) and the next candidate after it becomes the secondary (S9);
 *    without a secondary the next candidate after the failed primary is the
 *    primary (S6);
 *  - the secondary failed: the next candidate after it is the secondary;
 *  - "next" skips the primary and every candidate the device reported
 *    failing since the service was lost, and past the end of the list goes
 *    on from the top (S7's new search in the same order); when every
 *    candidate has failed the slate is wiped and the primary search starts
 *    again at the top. A secondary is only ever one of lower or equal
 *    priority than the primary (S9), or none.
 *  - a registration that succeeds clears that candidate's failure.
 * Each move needs a report, so the device's own REGISTER timing paces it:
 * never a storm, never a move the device did not see cause for.
 *
 * Pure: no I/O, no clock, no allocation. Works on indices into the
 * candidate list, at most LF_MAX_CANDIDATES of them (the rest are never
 * chosen). The texts both agents show (reasons, durations) and the server a
 * device in device control resolves (S3) are here too, for the same
 * reason. */
#ifndef SIPRESOLVER_CLIENT_LOCAL_FAILOVER_H_
#define SIPRESOLVER_CLIENT_LOCAL_FAILOVER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { LF_MAX_CANDIDATES = 64, LF_NONE = -1 };

struct lf_candidate {
  const char* address; /* IP literal, as the decision carries it. */
  uint32_t port;
  uint32_t priority; /* Lower is preferred. */
};

/* The device's registrations since the service was lost. */
struct lf_state {
  uint64_t failed; /* Bit i: candidate i was reported failing. */
};

/* The index of the candidate at `address`:`port` among the first `n`, or
 * LF_NONE. */
int lf_find(const struct lf_candidate* candidates, int n, const char* address,
            uint32_t port);

/* The device reported REGISTER with candidate `index` succeeding
 * (`registered` != 0) or failing. Moves `*primary` and `*secondary`
 * (indices, LF_NONE for none) by the rules above; `has_secondary` says
 * whether the profile keeps a secondary registration (S9). Returns 1 when
 * either moved, else 0. A `*primary` that is not one of the first `n`
 * candidates moves nothing (the failure is still noted); a `*secondary`
 * that is not is taken as none. */
int lf_on_report(struct lf_state* state, const struct lf_candidate* candidates,
                 int n, int index, int registered, int has_secondary,
                 int* primary, int* secondary);

/* What both agents say and show, byte for byte the same. Each writes a
 * NUL-terminated text into `out` (truncated to `size`) and returns its full
 * length, as snprintf does. */

/* A duration of `milliseconds` as Go's time.Duration prints it: "0s",
 * "500ms", "2s", "1.5s", "1m30s", "10m0s", "1h0m0s". */
int lf_format_duration(char* out, size_t size, uint64_t milliseconds);

/* The reason of a decision the agent made by itself after a report:
 * "the service is unreachable: the device reported REGISTER with
 * 192.0.2.11:5060 failing (408); moved down the candidates in its own order
 * (S6-S10, local failover)". An IPv6 `address` goes in brackets; `code` 0
 * reads "no response". */
int lf_failover_reason(char* out, size_t size, const char* address,
                       uint32_t port, uint32_t code);

/* The reason of a device-control decision (DECISION_STATE_DEVICE_CONTROL):
 * "the service has been unreachable for 10m0s: control is back with the
 * device's own resolution of itsp.example.com (S1-S10 on the device)";
 * `after_ms` the agent's --device_control_after, `server` the profile's
 * (lf_profile_server). */
int lf_device_control_reason(char* out, size_t size, uint64_t after_ms,
                             const char* server);

/* The server a profile's redundancy applies to (S3), which a device in
 * device control resolves by itself: the outbound proxy when one is set,
 * else the registrar server, else the proxy server. The port is the one
 * configured for it (0: none, the transport's default); a profile without a
 * registrar server takes the registrar port, else the proxy server's, as
 * the service does. NULL and "" both mean not set. */
struct lf_server {
  const char* server; /* One of the arguments, as configured; "" for none. */
  uint32_t port;
};
struct lf_server lf_profile_server(const char* outbound_proxy,
                                   uint32_t outbound_proxy_port,
                                   const char* registrar_server,
                                   uint32_t registrar_server_port,
                                   const char* proxy_server,
                                   uint32_t proxy_server_port);

#ifdef __cplusplus
}
#endif

#endif /* SIPRESOLVER_CLIENT_LOCAL_FAILOVER_H_ */
