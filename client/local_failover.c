#include "local_failover.h"

#include <string.h>

int lf_find(const struct lf_candidate* candidates, int n, const char* address,
            uint32_t port) {
  if (n > LF_MAX_CANDIDATES) n = LF_MAX_CANDIDATES;
  for (int i = 0; i < n; ++i) {
    if (candidates[i].port == port &&
        strcmp(candidates[i].address, address) == 0)
      return i;
  }
  return LF_NONE;
}

static int failed(const struct lf_state* s, int i) {
  return (int)((s->failed >> i) & 1u);
}

/* The first candidate after `from` in the list's order, wrapping around,
 * that is neither `skip` nor failed; LF_NONE when there is none. */
static int next_working(const struct lf_state* s, int n, int from, int skip) {
  for (int step = 1; step <= n; ++step) {
    const int i = (from + step) % n;
    if (i != skip && !failed(s, i)) return i;
  }
  return LF_NONE;
}

/* S9: the first candidate after `from`, wrapping around, that is not the
 * primary, not failed, and of lower or equal priority than the primary. */
static int next_secondary(const struct lf_state* s,
                          const struct lf_candidate* c, int n, int from,
                          int primary) {
  for (int step = 1; step < n; ++step) {
    const int i = (from + step) % n;
    if (i != primary && !failed(s, i) && c[i].priority >= c[primary].priority)
      return i;
  }
  return LF_NONE;
}

int lf_on_report(struct lf_state* state, const struct lf_candidate* candidates,
                 int n, int index, int registered, int has_secondary,
                 int* primary, int* secondary) {
  if (n > LF_MAX_CANDIDATES) n = LF_MAX_CANDIDATES;
  if (index < 0 || index >= n) return 0;
  if (registered) {
    state->failed &= ~(UINT64_C(1) << index);
    return 0;
  }
  state->failed |= UINT64_C(1) << index;
  const int old_primary = *primary, old_secondary = *secondary;
  if (index == *primary) {
    if (*secondary != LF_NONE && *secondary != index &&
        !failed(state, *secondary)) {
      *primary = *secondary; /* S10: promoted at once. */
    } else {
      int next = next_working(state, n, index, LF_NONE);
      if (next == LF_NONE) {
        /* S7: every candidate failed: search again from the top. */
        state->failed = 0;
        next = 0;
      }
      *primary = next;
    }
    *secondary = has_secondary
                     ? next_secondary(state, candidates, n, *primary, *primary)
                     : LF_NONE;
  } else if (index == *secondary) {
    *secondary = next_secondary(state, candidates, n, index, *primary);
  }
  return *primary != old_primary || *secondary != old_secondary;
}
