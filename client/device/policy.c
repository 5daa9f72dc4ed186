#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

void policy_new_stream(struct policy* p) { p->stream_decided = 0; }

static int same_endpoint(const Candidate* a, const Candidate* b) {
  return a && b && a->port == b->port &&
         strcmp(str_or_empty(a->address), str_or_empty(b->address)) == 0;
}

/* The candidate of `d` at `c`'s endpoint, or NULL. */
static const Candidate* find(const Decision* d, const Candidate* c) {
  for (size_t i = 0; i < d->n_candidates; ++i) {
    if (same_endpoint(d->candidates[i], c)) return d->candidates[i];
  }
  return NULL;
}

/* Replaces `*slot` with a copy of `c` (NULL: clears it); 0 or -1. */
static int set_candidate(Candidate** slot, const Candidate* c) {
  Candidate* copy = NULL;
  if (c && !(copy = candidate_copy(c))) return -1;
  message_free(*slot);
  *slot = copy;
  return 0;
}

Decision* policy_accept(struct policy* p, const Decision* held,
                        Decision* incoming) {
  if (incoming->state == STATE_SEARCHING && held && !p->stream_decided) {
    message_free(incoming);
    return NULL;
  }
  p->stream_decided = 1;
  if (incoming->assurance != ASSURANCE_UNCONFIRMED || !held ||
      held->state != STATE_ACTIVE || !held->primary)
    return incoming;
  const Candidate* kept = find(incoming, held->primary);
  if (!kept) return incoming;
  const int moved = !same_endpoint(kept, incoming->primary);
  const Candidate* secondary =
      held->secondary ? find(incoming, held->secondary) : NULL;
  int failed = set_candidate(&incoming->primary, kept);
  if (secondary && !same_endpoint(secondary, kept)) {
    failed |= set_candidate(&incoming->secondary, secondary);
  } else if (same_endpoint(incoming->secondary, kept)) {
    failed |= set_candidate(&incoming->secondary, NULL);
  }
  if (moved) {
    struct buf reason = BUF_INIT;
    buf_printf(&reason,
               "%s; the agent keeps the primary it registered with "
               "(unconfirmed decisions never move it)",
               str_or_empty(incoming->reason));
    if (!reason.failed) {
      free(incoming->reason);
      incoming->reason = reason.data;
    } else {
      buf_free(&reason);
    }
  }
  if (failed) { /* Out of memory: better no decision than a half one. */
    message_free(incoming);
    return NULL;
  }
  return incoming;
}

/* `d` without what does not change anything for the device, normalised. */
static Decision* essence(const Decision* d) {
  Decision* x = decision_copy(d);
  if (!x) return NULL;
  x->has_version = 0;
  x->has_heartbeat = 0;
  free(x->reason);
  x->reason = NULL;
  message_free(x->generated_at);
  x->generated_at = NULL;
  /* A remaining TTL differs between replicas and renewals. */
  if (x->primary) x->primary->has_ttl_seconds = 0;
  if (x->secondary) x->secondary->has_ttl_seconds = 0;
  Candidate** lists[] = {x->primary_fallback, x->secondary_fallback,
                         x->candidates};
  const size_t sizes[] = {x->n_primary_fallback, x->n_secondary_fallback,
                          x->n_candidates};
  for (int l = 0; l < 3; ++l)
    for (size_t i = 0; i < sizes[l]; ++i) lists[l][i]->has_ttl_seconds = 0;
  message_normalize(&x->base);
  return x;
}

int decision_same(const Decision* a, const Decision* b) {
  Decision *x = essence(a), *y = essence(b);
  int same = 0;
  if (x && y) {
    const size_t nx = protobuf_c_message_get_packed_size(&x->base);
    const size_t ny = protobuf_c_message_get_packed_size(&y->base);
    uint8_t *bx = malloc(nx + 1), *by = malloc(ny + 1);
    if (bx && by && nx == ny) {
      protobuf_c_message_pack(&x->base, bx);
      protobuf_c_message_pack(&y->base, by);
      same = memcmp(bx, by, nx) == 0;
    }
    free(bx);
    free(by);
  }
  message_free(x);
  message_free(y);
  return same;
}
