/* What becomes of decisions and device reports: handed on (stdout, the
 * decision file, the hook), held, made by the agent itself without the
 * service, and reports sent to the service. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent_internal.h"
#include "grpc_wire.h"
#include "local.h"
#include "log.h"

#define REPORT_PATH "/sipresolver.v1.SipResolver/ReportObservation"

/* --- handing decisions on --- */

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

/* --- without the service --- */

/* A device report while no stream delivers decisions: the device moves
 * down its candidates (client/local_failover.h). */
static void fail_over_locally(struct agent* a, const struct device_report* r) {
  if (!a->held || a->device_control) return;
  Decision* local =
      local_on_report(&a->failover, a->held, a->config.profile, r);
  if (local) hold(a, local, SOURCE_AGENT);
}

/* After --device_control_after without the service, the device decides. */
void agent_hand_back_control(struct agent* a) {
  if (a->device_control || !a->held || a->held->state != STATE_ACTIVE) return;
  const struct profile_server server = profile_server_of(a->config.profile);
  Decision* d = local_device_control_decision(
      a->held, &server, a->config.flags->device_control_after_ms);
  if (!d) return;
  a->device_control = 1;
  hold(a, d, SOURCE_AGENT);
}

int64_t agent_device_control_at(const struct agent* a) {
  const int64_t after = a->config.flags->device_control_after_ms;
  if (after <= 0 || !a->lost_service || a->device_control || !a->held ||
      a->held->state != STATE_ACTIVE)
    return INT64_MAX;
  return a->lost_service + after;
}

/* --- device reports --- */

void agent_on_device_report(void* arg, const struct device_report* r) {
  struct agent* a = arg;
  if (!a->with_service) {
    fail_over_locally(a, r);
    return;
  }
  /* Coalesced by endpoint: the newest outcome counts. */
  int i = 0;
  while (i < a->n_pending && !(a->pending[i].port == r->port &&
                               strcmp(a->pending[i].address, r->address) == 0))
    ++i;
  if (i == kMaxReportsPerCall) { /* Full: the oldest goes. */
    memmove(a->pending, a->pending + 1, sizeof a->pending[0] * (i - 1));
    i = kMaxReportsPerCall - 1;
  }
  a->pending[i] = *r;
  if (i == a->n_pending) ++a->n_pending;
  agent_send_reports(a);
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

void agent_send_reports(struct agent* a) {
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
    servers[i].address = a->pending[i].address;
    servers[i].has_port = 1;
    servers[i].port = a->pending[i].port;
    servers[i].has_transport = a->config.profile->has_proxy_server_transport;
    servers[i].transport = a->config.profile->proxy_server_transport;
    outcomes[i].server = &servers[i];
    outcomes[i].has_status_code = a->pending[i].code != 0;
    outcomes[i].status_code = a->pending[i].code;
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

void agent_take_decision(struct agent* a, Decision* d) {
  d = policy_accept(&a->policy, a->held, d);
  if (!d) return;
  if (!a->with_service) { /* The service is back: its decisions rule. */
    a->with_service = 1;
    a->lost_service = 0;
    a->device_control = 0;
    a->failover = (struct lf_state){0};
  }
  hold(a, d, SOURCE_SERVICE);
  agent_send_reports(a);
}
