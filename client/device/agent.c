#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "grpc_wire.h"
#include "h2_conn.h"
#include "hook.h"
#include "local.h"
#include "local_failover.h"
#include "log.h"
#include "output.h"
#include "policy.h"
#include "reports.h"
#include "resolve.h"
#include "setup.h"

#define WATCH_PATH "/sipresolver.v1.SipResolver/WatchDecision"
#define REPORT_PATH "/sipresolver.v1.SipResolver/ReportObservation"

/* ReportObservation: at most this many registrations a call (the service's
 * limit), at most one call a second (it allows 60 a minute). */
enum { kMaxReportsPerCall = 16, kReportIntervalMs = 1000 };

struct pending_report {
  struct device_report report;
  int64_t at_ms;
};

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
  struct pending_report pending[kMaxReportsPerCall];
  int n_pending;
  int64_t next_report_at;

  struct hook_runner hooks;
};

static int g_signal_fd = -1;

static void on_signal(int number) {
  const int saved = errno;
  const char c = (char)number;
  ssize_t ignored = write(g_signal_fd, &c, 1);
  (void)ignored;
  errno = saved;
}

/* --- handing decisions on ------------------------------------------------ */

static void apply(struct agent* a, const Decision* d,
                  enum decision_source source) {
  struct buf text = BUF_INIT;
  if (a->config.flags->json)
    format_decision_json(d, &text);
  else
    format_decision_line(d, &text);
  if (!text.failed) {
    fwrite(text.data, 1, text.len, stdout);
    fflush(stdout);
  }
  if (applies_to_device(d)) {
    const char* file = a->config.flags->output_file;
    if (*file) {
      buf_clear(&text);
      format_decision_file(d, source, &text);
      if (text.failed || write_file_atomically(file, text.data, text.len) != 0)
        log_line("cannot write %s: %s", file, strerror(errno));
    }
    if (*a->config.flags->hook) {
      int n;
      buf_clear(&text);
      hook_environment(d, source, a->config.profile, file, &text, &n);
      if (!text.failed) hook_submit(&a->hooks, &text, n, a->now);
    }
    if (a->config.flags->once && d->state == STATE_ACTIVE) a->stop = 1;
  }
  buf_free(&text);
}

/* Takes `d` as the held decision and hands it on when it changes anything
 * for the device, or who decided (the service back with what the agent
 * chose alone: the hook sees SIPRESOLVER_SOURCE=service again). */
static void hold(struct agent* a, Decision* d, enum decision_source source) {
  const int changed =
      !a->held || a->held_source != source || !decision_same(a->held, d);
  message_free(a->held);
  a->held = d;
  a->held_source = source;
  if (changed) apply(a, d, source);
}

/* --- without the service ----------------------------------------------------
 */

/* A device report while no stream delivers decisions: the device moves
 * down its candidates (client/local_failover.h). */
static void fail_over_locally(struct agent* a, const struct device_report* r) {
  if (!a->held || a->device_control) return;
  Decision* local =
      local_on_report(&a->failover, a->held, a->config.profile, r);
  if (local) hold(a, local, SOURCE_AGENT);
}

/* After --device_control_after without the service, the device decides. */
static void hand_back_control(struct agent* a) {
  if (a->device_control || !a->held || a->held->state != STATE_ACTIVE) return;
  const struct profile_server server = profile_server_of(a->config.profile);
  Decision* d = local_device_control_decision(
      a->held, &server, a->config.flags->device_control_after_ms);
  if (!d) return;
  a->device_control = 1;
  hold(a, d, SOURCE_AGENT);
}

static int64_t device_control_at(const struct agent* a) {
  const int64_t after = a->config.flags->device_control_after_ms;
  if (after <= 0 || !a->lost_service || a->device_control || !a->held ||
      a->held->state != STATE_ACTIVE)
    return INT64_MAX;
  return a->lost_service + after;
}

/* --- device reports
 * ----------------------------------------------------------- */

static void send_reports(struct agent* a);

static void on_device_report(void* arg, const struct device_report* r) {
  struct agent* a = arg;
  if (!a->with_service) {
    fail_over_locally(a, r);
    return;
  }
  /* Coalesced by endpoint: the newest outcome counts. */
  int i = 0;
  while (i < a->n_pending &&
         !(a->pending[i].report.port == r->port &&
           strcmp(a->pending[i].report.address, r->address) == 0))
    ++i;
  if (i == kMaxReportsPerCall) { /* Full: the oldest goes. */
    memmove(a->pending, a->pending + 1, sizeof a->pending[0] * (i - 1));
    i = kMaxReportsPerCall - 1;
  }
  a->pending[i] = (struct pending_report){*r, a->now};
  if (i == a->n_pending) ++a->n_pending;
  send_reports(a);
}

static int on_report_message(void* arg, const uint8_t* m, size_t len) {
  return 0; /* The response says how many re-probes; nothing to do. */
}

static void on_report_end(void* arg, const struct grpc_result* r) {
  struct agent* a = arg;
  a->report_call = NULL;
  if (r->code != GRPC_OK)
    log_line("report: %s: %s", grpc_code_name(r->code), r->message);
}

static const struct h2_call_handler kReportHandler = {on_report_message,
                                                      on_report_end};

static void send_reports(struct agent* a) {
  if (!a->n_pending || a->report_call || !a->conn || !a->with_service ||
      a->now < a->next_report_at)
    return;
  Sipresolver__V1__ReportObservationRequest request =
      SIPRESOLVER__V1__REPORT_OBSERVATION_REQUEST__INIT;
  Sipresolver__V1__RegistrationOutcome outcomes[kMaxReportsPerCall];
  Sipresolver__V1__RegistrationOutcome* list[kMaxReportsPerCall];
  Endpoint servers[kMaxReportsPerCall];
  request.agent_id = (char*)a->config.agent_id;
  for (int i = 0; i < a->n_pending; ++i) {
    sipresolver__v1__registration_outcome__init(&outcomes[i]);
    sipresolver__v1__endpoint__init(&servers[i]);
    servers[i].address = a->pending[i].report.address;
    servers[i].has_port = 1;
    servers[i].port = a->pending[i].report.port;
    servers[i].has_transport = a->config.profile->has_proxy_server_transport;
    servers[i].transport = a->config.profile->proxy_server_transport;
    outcomes[i].server = &servers[i];
    outcomes[i].has_status_code = a->pending[i].report.code != 0;
    outcomes[i].status_code = a->pending[i].report.code;
    list[i] = &outcomes[i];
  }
  request.n_registrations = (size_t)a->n_pending;
  request.registrations = list;
  uint8_t bytes[4096];
  if (protobuf_c_message_get_packed_size(&request.base) > sizeof bytes) return;
  const size_t len = protobuf_c_message_pack(&request.base, bytes);
  a->report_call =
      h2_call_start(a->conn, REPORT_PATH, bytes, len, &kReportHandler, a);
  if (!a->report_call) return;
  a->n_pending = 0;
  a->next_report_at = a->now + kReportIntervalMs;
}

/* --- the stream
 * ------------------------------------------------------------------ */

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
  d = policy_accept(&a->policy, a->held, d);
  if (!d) return 0;
  if (!a->with_service) { /* The service is back: its decisions rule. */
    a->with_service = 1;
    a->lost_service = 0;
    a->device_control = 0;
    a->failover = (struct lf_state){0};
  }
  hold(a, d, SOURCE_SERVICE);
  send_reports(a);
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

static void close_connection(struct agent* a) {
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

/* The stream ended with `r`: decide when (and whether) to go on. */
static void end_stream(struct agent* a, const struct grpc_result* r) {
  if (a->with_service) {
    a->with_service = 0;
    a->lost_service = a->now;
    a->failover = (struct lf_state){0};
  }
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

/* --- the connection --------------------------------------------------------
 */

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
    close_connection(a);
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

static void on_resolved(struct agent* a) {
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
static void reopen(struct agent* a) {
  if (a->conn && !a->new_connection && h2_conn_ready(a->conn) &&
      !h2_conn_draining(a->conn) && start_stream(a) == 0)
    return;
  a->new_connection = 0;
  close_connection(a);
  start_resolving(a);
}

static void on_connection(struct agent* a, short revents) {
  if (h2_conn_process(a->conn, revents, a->now) == 0) {
    if (a->watch &&
        a->now - a->last_message > a->config.flags->stall_timeout_ms) {
      h2_call_cancel(a->conn, a->watch);
      a->watch = NULL;
      const struct grpc_result r = {GRPC_UNAVAILABLE,
                                    "no message within --stall_timeout", 0};
      close_connection(a);
      end_stream(a, &r);
    }
    return;
  }
  /* The connection is over; its calls have ended (on_watch_end ran). */
  close_connection(a);
  if (a->try_next_address) {
    a->try_next_address = 0;
    connect_next(a);
  }
}

/* --- the loop ---------------------------------------------------------------
 */

static int64_t earliest(int64_t a, int64_t b) { return a < b ? a : b; }

static void step(struct agent* a) {
  struct pollfd fds[4];
  int n = 0, conn_i = -1, report_i = -1, resolve_i = -1;
  fds[n++] = (struct pollfd){a->signal_pipe[0], POLLIN, 0};
  if (a->conn) {
    conn_i = n;
    fds[n++] = (struct pollfd){h2_conn_fd(a->conn), h2_conn_events(a->conn), 0};
  }
  if (a->reports.fd >= 0) {
    report_i = n;
    fds[n++] = (struct pollfd){a->reports.fd, POLLIN, 0};
  }
  if (a->resolve.fd >= 0) {
    resolve_i = n;
    fds[n++] = (struct pollfd){a->resolve.fd, POLLIN, 0};
  }
  int64_t wake = INT64_MAX;
  if (a->retry_at >= 0 && a->resolve.fd < 0) wake = a->retry_at;
  if (a->conn) wake = earliest(wake, h2_conn_deadline(a->conn));
  if (a->watch)
    wake =
        earliest(wake, a->last_message + a->config.flags->stall_timeout_ms + 1);
  if (a->n_pending && a->with_service) wake = earliest(wake, a->next_report_at);
  wake = earliest(wake, hook_deadline(&a->hooks));
  wake = earliest(wake, device_control_at(a));
  const int64_t now = clock_ms();
  int timeout = -1;
  if (wake != INT64_MAX)
    timeout =
        wake <= now ? 0 : (int)earliest(wake - now, (int64_t)24 * 3600 * 1000);
  if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
    log_line("poll: %s", strerror(errno));
    a->stop = 1;
    return;
  }
  a->now = clock_ms();

  if (fds[0].revents) {
    char signals[16];
    const ssize_t got = read(a->signal_pipe[0], signals, sizeof signals);
    for (ssize_t i = 0; i < got; ++i) {
      if (signals[i] == SIGCHLD)
        hook_reap(&a->hooks, a->now);
      else
        a->stop = 1;
    }
  }
  if (a->stop) return;
  if (resolve_i >= 0 && fds[resolve_i].revents) on_resolved(a);
  if (a->conn) on_connection(a, (short)(conn_i >= 0 ? fds[conn_i].revents : 0));
  if (report_i >= 0 && fds[report_i].revents)
    report_socket_read(&a->reports, on_device_report, a);
  if (a->now >= device_control_at(a)) hand_back_control(a);
  if (a->now >= hook_deadline(&a->hooks)) hook_reap(&a->hooks, a->now);
  if (a->n_pending) send_reports(a);
  if (a->retry_at >= 0 && a->now >= a->retry_at && a->resolve.fd < 0 &&
      !a->stop)
    reopen(a);
}

static int install_signals(struct agent* a) {
  if (pipe2(a->signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  g_signal_fd = a->signal_pipe[1];
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGCHLD, &action, NULL);
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

int agent_run(const struct agent_flags* flags) {
  char error[512];
  if (flags->report) {
    if (report_socket_send(flags->report_socket, flags->report, error,
                           sizeof error) != 0) {
      fprintf(stderr, AGENT_NAME ": %s\n", error);
      return EXIT_RPC_ERROR;
    }
    return EXIT_OK;
  }
  struct agent* a = calloc(1, sizeof *a);
  if (!a) return EXIT_RPC_ERROR;
  a->reports.fd = -1;
  a->resolve.fd = -1;
  if (setup_config(flags, &a->config, error, sizeof error) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", error);
    free(a);
    return EXIT_USAGE;
  }
  if (*flags->report_socket &&
      report_socket_open(&a->reports, flags->report_socket, error,
                         sizeof error) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", error);
    setup_free(&a->config);
    free(a);
    return EXIT_RPC_ERROR; /* As watch: the flag is fine, the place is not. */
  }
  if (install_signals(a) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", strerror(errno));
    return EXIT_RPC_ERROR;
  }
  srandom((unsigned)(clock_ms() ^ (getpid() << 16)));
  hook_init(&a->hooks, flags->hook, flags->hook_timeout_ms);
  a->keepalive_ms = flags->keepalive_time_ms;
  a->now = clock_ms();
  a->retry_at = a->now;
  while (!a->stop) step(a);

  resolve_cancel(&a->resolve);
  close_connection(a);
  report_socket_close(&a->reports);
  hook_drain(&a->hooks); /* The last decision's hook runs to its end. */
  hook_free(&a->hooks);
  message_free(a->held);
  setup_free(&a->config);
  const int code = a->exit_code;
  close(a->signal_pipe[0]);
  close(a->signal_pipe[1]);
  free(a);
  return code;
}
