#include "local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "local_failover.h"

/* The reason, in the words both agents use (client/local_failover.h). */
static void set_reason(Decision* d, const char* reason) {
  free(d->reason);
  d->reason = strdup(reason);
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
  char reason[512];
  lf_failover_reason(reason, sizeof reason, report->address, report->port,
                     report->code);
  set_reason(d, reason);
  message_normalize(&d->base);
  if (failed || !d->reason) {
    message_free(d);
    return NULL;
  }
  return d;
}

Decision* local_on_report(struct lf_state* state, const Decision* held,
                          const ItspProfile* profile,
                          const struct device_report* r) {
  if (held->state != STATE_ACTIVE || !held->primary) return NULL;
  struct lf_candidate view[LF_MAX_CANDIDATES];
  int n = 0;
  for (; (size_t)n < held->n_candidates && n < LF_MAX_CANDIDATES; ++n) {
    const Candidate* c = held->candidates[n];
    view[n] =
        (struct lf_candidate){str_or_empty(c->address), c->port, c->priority};
  }
  const int index = lf_find(view, n, r->address, r->port);
  if (index == LF_NONE) return NULL;
  int primary = lf_find(view, n, str_or_empty(held->primary->address),
                        held->primary->port);
  int secondary = held->secondary
                      ? lf_find(view, n, str_or_empty(held->secondary->address),
                                held->secondary->port)
                      : LF_NONE;
  /* S9: a secondary registration needs redundancy on. */
  const int has_secondary =
      profile->proxy_server_redundancy && profile->secondary_registration;
  if (!lf_on_report(state, view, n, index, device_report_registered(r),
                    has_secondary, &primary, &secondary))
    return NULL;
  return local_failover_decision(held, primary, secondary, r);
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
  char reason[512];
  lf_device_control_reason(reason, sizeof reason, (uint64_t)after_ms,
                           server->name);
  set_reason(d, reason);
  message_normalize(&d->base);
  if (failed || !d->reason) {
    message_free(d);
    return NULL;
  }
  return d;
}
