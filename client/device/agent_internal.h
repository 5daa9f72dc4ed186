/* agent_internal: the state of sipresolver-agent's one thread and the
 * functions its three parts give each other: the loop (agent.c), the
 * connection and stream (agent_stream.c), and what becomes of decisions
 * and device reports (agent_decisions.c). Private to them. */
#ifndef SIPRESOLVER_AGENT_AGENT_INTERNAL_H_
#define SIPRESOLVER_AGENT_AGENT_INTERNAL_H_

#include <stdint.h>

#include "agent.h"
#include "device_report.h"
#include "h2_conn.h"
#include "hook.h"
#include "local_failover.h"
#include "messages.h"
#include "output.h"
#include "policy.h"
#include "reports.h"
#include "resolve.h"
#include "setup.h"

/* ReportObservation: at most this many registrations a call (the service's
 * limit), at most one call a second (it allows 60 a minute). */
enum { kMaxReportsPerCall = 16, kReportIntervalMs = 1000 };

struct agent {
  struct agent_config config;
  int64_t now;
  int stop; /* SIGINT/SIGTERM or --once: leave the loop. */
  int exit_code;
  int signal_pipe[2];

  /* The connection and its streams. */
  struct resolve_job resolve;
  struct resolved addresses;
  int next_address;     /* Index of the next address to try. */
  int addresses_left;   /* Tries left before backing off. */
  int try_next_address; /* The connection failed before it served. */
  int new_connection;   /* The next stream must not reuse the connection. */
  struct h2_conn* conn;
  struct h2_call* watch;
  struct h2_call* report_call;
  int64_t retry_at;       /* When to open the next stream; -1 while one is. */
  int failures;           /* Backoff exponent. */
  int64_t keepalive_ms;   /* Doubled after a GOAWAY too_many_pings (A8). */
  int64_t last_message;   /* On the watch stream, for the stall timeout. */
  int stream_served;      /* The current stream brought a message. */
  int last_end_immediate; /* The last retry was at once, unserved. */

  /* Decisions. */
  struct policy policy;
  Decision* held;
  enum decision_source held_source;
  uint64_t last_version;
  int with_service;     /* A stream is delivering decisions. */
  int64_t lost_service; /* When the last such stream ended; 0: not lost. */
  struct lf_state failover;
  int device_control;

  /* Device reports waiting for ReportObservation. */
  struct report_socket reports;
  struct device_report pending[kMaxReportsPerCall];
  int n_pending;
  int64_t next_report_at;

  struct hook_runner hooks;
};

/* agent_decisions.c */

/* A decision of the service's stream, after the policy: held and handed
 * on; the service is there again. Takes `d`. */
void agent_take_decision(struct agent* a, Decision* d);
/* A line from --report_socket (report_socket_read's callback). */
void agent_on_device_report(void* arg, const struct device_report* r);
/* Sends the waiting reports when the connection and the rate allow. */
void agent_send_reports(struct agent* a);
/* When device control is due; INT64_MAX for never. */
int64_t agent_device_control_at(const struct agent* a);
/* After --device_control_after without the service, the device decides. */
void agent_hand_back_control(struct agent* a);

/* agent_stream.c */

/* Time to (re)open the stream. */
void agent_reopen(struct agent* a);
/* The resolver child wrote. */
void agent_on_resolved(struct agent* a);
/* The connection's socket is ready (`revents`, maybe 0) or it is time. */
void agent_on_connection(struct agent* a, short revents);
void agent_close_connection(struct agent* a);

#endif /* SIPRESOLVER_AGENT_AGENT_INTERNAL_H_ */
