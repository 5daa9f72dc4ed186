#include "local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "local_failover.h"

static void set_reason(Decision* d, struct buf* reason) {
  free(d->reason);
  d->reason = reason->failed ? NULL : reason->data;
  if (reason->failed) buf_free(reason);
}

static int set_now(Decision* d) {
  message_free(d->generated_at);
  d->generated_at = malloc(sizeof *d->generated_at);
  if (!d->generated_at) return -1;
  google__protobuf__timestamp__init(d->generated_at);
  int32_t nanos;
  clock_wall(&d->generated_at->seconds, &nanos);
  d->generated_at->nanos = nanos;
  return 0;
}

static void clear_list(Candidate*** list, size_t* n) {
  for (size_t i = 0; i < *n; ++i) message_free((*list)[i]);
  free(*list);
  *list = NULL;
  *n = 0;
}

/* Replaces `*slot` with a copy of `c`; 0 or -1. */
static int copy_into(Candidate** slot, const Candidate* c) {
  message_free(*slot);
  *slot = c ? candidate_copy(c) : NULL;
  return c && !*slot ? -1 : 0;
}

/* Formats a duration as Go and Abseil do: 10m0s, 1m30s, 2s, 1h0m0s. */
static void format_duration(int64_t ms, struct buf* out) {
  const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
  const int64_t rest = ms % 1000;
  if (ms < 1000) return buf_printf(out, "%lldms", (long long)ms);
  if (h) buf_printf(out, "%lldh", (long long)h);
  if (h || m) buf_printf(out, "%lldm", (long long)m);
  buf_printf(out, "%lld", (long long)s);
  if (rest) {
    char digits[4];
    snprintf(digits, sizeof digits, "%03lld", (long long)rest);
    for (int i = 2; i > 0 && digits[i] == '0'; --i) digits[i] = '\0';
    buf_printf(out, ".%s", digits);
  }
  buf_putc(out, 's');
}

Decision* local_failover_decision(const Decision* held, int primary,
                                  int secondary,
                                  const struct device_report* report) {
  Decision* d = decision_copy(held);
  if (!d) return NULL;
  const Candidate* p = held->candidates[primary];
  const int keep_alive_followed =
      d->keep_alive_target && held->primary &&
      d->keep_alive_target->port == held->primary->port &&
      strcmp(str_or_empty(d->keep_alive_target->address),
             str_or_empty(held->primary->address)) == 0;
  int failed = copy_into(&d->primary, p);
  failed |= copy_into(
      &d->secondary, secondary == LF_NONE ? NULL : held->candidates[secondary]);
  clear_list(&d->primary_fallback, &d->n_primary_fallback);
  clear_list(&d->secondary_fallback, &d->n_secondary_fallback);
  d->primary_fallback = calloc(held->n_candidates + 1, sizeof(Candidate*));
  failed |= !d->primary_fallback;
  for (size_t i = 0; !failed && i < held->n_candidates; ++i) {
    if (held->candidates[i]->priority >= p->priority) continue;
    failed |= copy_into(&d->primary_fallback[d->n_primary_fallback++],
                        held->candidates[i]);
  }
  if (keep_alive_followed) { /* N2: keep-alives go where REGISTER goes. */
    free(d->keep_alive_target->address);
    d->keep_alive_target->address = strdup(str_or_empty(p->address));
    d->keep_alive_target->port = p->port;
    failed |= !d->keep_alive_target->address;
  }
  message_free(d->next_search_time);
  d->next_search_time = NULL;
  d->has_state = d->has_assurance = 1;
  d->state = STATE_ACTIVE;
  d->assurance = ASSURANCE_UNCONFIRMED;
  d->probe_path_suspect = 0;
  failed |= set_now(d);
  struct buf reason = BUF_INIT;
  buf_puts(&reason,
           "the service is unreachable: the device reported REGISTER with ");
  format_host_port(report->address, report->port, &reason);
  if (report->code)
    buf_printf(&reason, " failing (%u)", report->code);
  else
    buf_puts(&reason, " failing (no response)");
  buf_puts(&reason,
           "; moved down the candidates in its own order (S6-S10, local "
           "failover)");
  set_reason(d, &reason);
  message_normalize(&d->base);
  if (failed || !d->reason) {
    message_free(d);
    return NULL;
  }
  return d;
}

Decision* local_device_control_decision(const Decision* held,
                                        const struct profile_server* server,
                                        int64_t after_ms) {
  Decision* d = decision_copy(held);
  if (!d) return NULL;
  copy_into(&d->primary, NULL);
  copy_into(&d->secondary, NULL);
  clear_list(&d->primary_fallback, &d->n_primary_fallback);
  clear_list(&d->secondary_fallback, &d->n_secondary_fallback);
  message_free(d->keep_alive_target);
  d->keep_alive_target = NULL;
  message_free(d->next_search_time);
  d->next_search_time = NULL;
  d->has_state = 1;
  d->state = STATE_DEVICE_CONTROL;
  d->has_assurance = 0;
  d->probe_path_suspect = 0;
  const int failed = set_now(d);
  struct buf reason = BUF_INIT;
  buf_puts(&reason, "the service has been unreachable for ");
  format_duration(after_ms, &reason);
  buf_printf(&reason,
             ": control is back with the device's own resolution of %s "
             "(S1-S10 on the device)",
             server->name);
  set_reason(d, &reason);
  message_normalize(&d->base);
  if (failed || !d->reason) {
    message_free(d);
    return NULL;
  }
  return d;
}
