/* The connection to the service and the WatchDecision stream on it:
 * resolving the name, each address in turn, the request (resuming with the
 * last applied version and what the device applied), and when a stream
 * ends, when and where the next one starts. */
#include <stdio.h>
#include <stdlib.h>

#include "agent_internal.h"
#include "grpc_wire.h"
#include "log.h"

#define WATCH_PATH "/sipresolver.v1.SipResolver/WatchDecision"

/* --- the stream --- */

static void end_stream(struct agent* a, const struct grpc_result* r);

static int on_watch_message(void* arg, const uint8_t* m, size_t len) {
  struct agent* a = arg;
  Decision* d = decision_unpack(m, len);
  if (!d) return 1; /* Not a Decision: cancel, reconnect after a backoff. */
  a->last_message = a->now;
  a->stream_served = 1;
  a->failures = 0; /* Connected and served: the next outage starts fresh. */
  if (d->heartbeat) {
    message_free(d);
    return 0;
  }
  if (d->version > a->last_version) a->last_version = d->version;
  agent_take_decision(a, d);
  return 0;
}

static void on_watch_end(void* arg, const struct grpc_result* r) {
  struct agent* a = arg;
  a->watch = NULL;
  /* A connection that never got ready: the next address first. */
  if (!h2_conn_ready(a->conn) && a->addresses_left > 0 && !a->stop) {
    log_line("%s; trying the next address", r->message);
    a->try_next_address = 1;
    return;
  }
  end_stream(a, r);
}

static const struct h2_call_handler kWatchHandler = {on_watch_message,
                                                     on_watch_end};

/* The request: the profile, and on reconnect what the device applied. */
static int start_stream(struct agent* a) {
  WatchRequest request = SIPRESOLVER__V1__WATCH_DECISION_REQUEST__INIT;
  Endpoint applied[2];
  request.profile = a->config.profile;
  request.agent_id = (char*)a->config.agent_id;
  request.has_spread_mode = 1;
  request.spread_mode = a->config.spread_mode;
  request.has_last_applied_version = a->last_version != 0;
  request.last_applied_version = a->last_version;
  const Decision* held = a->held;
  if (held && held->state == STATE_ACTIVE) {
    const Candidate* servers[2] = {held->primary, held->secondary};
    Endpoint** slots[2] = {&request.applied_primary,
                           &request.applied_secondary};
    for (int i = 0; i < 2; ++i) {
      if (!servers[i] || !servers[i]->address || !*servers[i]->address)
        continue;
      sipresolver__v1__endpoint__init(&applied[i]);
      applied[i].address = servers[i]->address;
      applied[i].has_port = 1;
      applied[i].port = servers[i]->port;
      *slots[i] = &applied[i];
    }
  }
  const size_t len = protobuf_c_message_get_packed_size(&request.base);
  uint8_t* bytes = malloc(len + 1);
  if (!bytes) return -1;
  protobuf_c_message_pack(&request.base, bytes);
  a->watch = h2_call_start(a->conn, WATCH_PATH, bytes, len, &kWatchHandler, a);
  free(bytes);
  if (!a->watch) return -1;
  policy_new_stream(&a->policy);
  a->retry_at = -1;
  a->last_message = a->now;
  a->stream_served = 0;
  return 0;
}

/* Uniform in [0, cap]. */
static int64_t jitter(int64_t cap) {
  uint64_t r = 0;
  for (int i = 0; i < 4; ++i) r = r << 16 ^ (uint64_t)(random() & 0xffff);
  return cap > 0 ? (int64_t)(r % (uint64_t)(cap + 1)) : 0;
}

static int64_t backoff(struct agent* a) {
  const struct agent_flags* f = a->config.flags;
  int64_t cap = f->initial_backoff_ms << (a->failures < 16 ? a->failures : 16);
  if (cap > f->max_backoff_ms) cap = f->max_backoff_ms;
  ++a->failures;
  return jitter(cap);
}

void agent_close_connection(struct agent* a) {
  if (!a->conn) return;
  if (h2_conn_too_many_pings(a->conn)) {
    a->keepalive_ms *= 2; /* A8: the server asked for fewer pings. */
    log_line(
        "the server said too_many_pings: keepalive pings every %llds "
        "from now on",
        (long long)(a->keepalive_ms / 1000));
  }
  h2_conn_free(a->conn);
  a->conn = NULL;
  a->watch = a->report_call = NULL;
}

/* The stream that delivered decisions is gone: without the service. */
static void service_lost(struct agent* a) {
  if (!a->with_service) return;
  a->with_service = 0;
  a->lost_service = a->now;
  a->failover = (struct lf_state){0};
}

/* The stream ended with `r`: decide when (and whether) to go on. */
static void end_stream(struct agent* a, const struct grpc_result* r) {
  service_lost(a);
  if (a->stop) return;
  if (r->code == GRPC_INVALID_ARGUMENT || r->code == GRPC_UNIMPLEMENTED) {
    fprintf(stderr, AGENT_NAME ": %s: %s\n", grpc_code_name(r->code),
            r->message);
    a->exit_code = EXIT_RPC_ERROR;
    a->stop = 1;
    return;
  }
  /* At once when a replica going away asks, but never twice in a row for
   * a server that serves nothing: a hostile or broken one must not make
   * the agent spin. */
  const int immediate =
      r->reconnect_now && (a->stream_served || !a->last_end_immediate);
  a->last_end_immediate = immediate && !a->stream_served;
  const int64_t wait = immediate ? 0 : backoff(a);
  a->retry_at = a->now + wait;
  /* The server is going away: the next stream goes to a new connection. */
  if (r->reconnect_now || (a->conn && h2_conn_draining(a->conn)))
    a->new_connection = 1;
  log_line("stream ended (%s: %s); reconnecting in %lldms%s",
           grpc_code_name(r->code), r->message, (long long)wait,
           immediate ? " (at once: the server asked)" : "");
}

/* --- the connection --- */

static void connect_next(struct agent* a) {
  char error[256];
  while (a->addresses_left > 0) {
    const int i = a->next_address % a->addresses.count;
    a->next_address = (a->next_address + 1) % a->addresses.count;
    --a->addresses_left;
    const struct agent_config* c = &a->config;
    const struct h2_options options = {c->use_tls ? &c->tls : NULL,
                                       c->server_name,
                                       c->authority,
                                       c->flags->max_message_bytes,
                                       c->flags->connect_timeout_ms,
                                       a->keepalive_ms,
                                       c->flags->keepalive_timeout_ms};
    a->conn = h2_conn_open((const struct sockaddr*)&a->addresses.addresses[i],
                           a->addresses.lengths[i], &options, a->now, error,
                           sizeof error);
    if (a->conn && start_stream(a) == 0) return;
    log_line("%s", a->conn ? "cannot start the stream" : error);
    agent_close_connection(a);
  }
  const struct grpc_result r = {GRPC_UNAVAILABLE, "no address to connect to",
                                0};
  end_stream(a, &r);
}

/* Every resolved address in turn, starting anywhere: a fleet spreads over
 * them. */
static void connect_first(struct agent* a) {
  a->addresses_left = a->addresses.count;
  a->next_address = (int)(random() % a->addresses.count);
  connect_next(a);
}

static void start_resolving(struct agent* a) {
  struct grpc_result r = {GRPC_UNAVAILABLE, "", 0};
  if (a->config.literals.count > 0) { /* --server=ipv4:A,B: no resolving. */
    a->addresses = a->config.literals;
    a->retry_at = -1;
    return connect_first(a);
  }
  const int rc = resolve_start(&a->resolve, a->config.host, a->config.port,
                               &a->addresses, r.message, sizeof r.message);
  if (rc < 0) return end_stream(a, &r);
  a->retry_at = -1;
  if (rc == 1) connect_first(a); /* A literal; else the child is at work. */
}

void agent_on_resolved(struct agent* a) {
  char error[160] = "";
  if (!resolve_finish(&a->resolve, &a->addresses, error, sizeof error)) return;
  if (a->addresses.count == 0) {
    struct grpc_result r = {GRPC_UNAVAILABLE, "", 0};
    snprintf(r.message, sizeof r.message, "resolving %.64s: %s", a->config.host,
             error);
    end_stream(a, &r);
    return;
  }
  connect_first(a);
}

/* Time to (re)open the stream: on the connection when it still serves,
 * else on a new one. */
void agent_reopen(struct agent* a) {
  if (a->conn && !a->new_connection && h2_conn_ready(a->conn) &&
      !h2_conn_draining(a->conn) && start_stream(a) == 0)
    return;
  a->new_connection = 0;
  agent_close_connection(a);
  start_resolving(a);
}

void agent_on_connection(struct agent* a, short revents) {
  if (h2_conn_process(a->conn, revents, a->now) == 0) {
    if (a->watch &&
        a->now - a->last_message > a->config.flags->stall_timeout_ms) {
      h2_call_cancel(a->conn, a->watch);
      a->watch = NULL;
      const struct grpc_result r = {GRPC_UNAVAILABLE,
                                    "no message within --stall_timeout", 0};
      agent_close_connection(a);
      end_stream(a, &r);
    }
    return;
  }
  /* The connection is over; its calls have ended (on_watch_end ran). */
  agent_close_connection(a);
  if (a->try_next_address) {
    a->try_next_address = 0;
    connect_next(a);
  }
}
