#include "local_failover.h"

#include <stdio.h>
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
  /* Without a primary among the candidates there is no "next" to go to
   * (and next_secondary would read candidates[-1]). */
  if (*primary < 0 || *primary >= n) return 0;
  if (*secondary < 0 || *secondary >= n) *secondary = LF_NONE;
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

int lf_format_duration(char* out, size_t size, uint64_t milliseconds) {
  if (milliseconds == 0) return snprintf(out, size, "0s");
  if (milliseconds < 1000)
    return snprintf(out, size, "%llums", (unsigned long long)milliseconds);
  const unsigned long long hours = milliseconds / 3600000,
                           minutes = milliseconds / 60000 % 60,
                           seconds = milliseconds / 1000 % 60;
  unsigned fraction = (unsigned)(milliseconds % 1000);
  /* Go prints the fraction without trailing zeros: 1.5s, 1.25s, 1.001s. */
  char fraction_text[5] = "";
  if (fraction != 0) {
    int digits = 3;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    snprintf(fraction_text, sizeof(fraction_text), ".%0*u", digits, fraction);
  }
  if (hours > 0) {
    return snprintf(out, size, "%lluh%llum%llu%ss", hours, minutes, seconds,
                    fraction_text);
  }
  if (minutes > 0) {
    return snprintf(out, size, "%llum%llu%ss", minutes, seconds, fraction_text);
  }
  return snprintf(out, size, "%llu%ss", seconds, fraction_text);
}

int lf_failover_reason(char* out, size_t size, const char* address,
                       uint32_t port, uint32_t code) {
  const int v6 = strchr(address, ':') != NULL;
  char code_text[16];
  if (code == 0) {
    snprintf(code_text, sizeof(code_text), "no response");
  } else {
    snprintf(code_text, sizeof(code_text), "%u", (unsigned)code);
  }
  return snprintf(out, size,
                  "the service is unreachable: the device reported REGISTER "
                  "with %s%s%s:%u failing (%s); moved down the candidates in "
                  "its own order (S6-S10, local failover)",
                  v6 ? "[" : "", address, v6 ? "]" : "", (unsigned)port,
                  code_text);
}

int lf_device_control_reason(char* out, size_t size, uint64_t after_ms,
                             const char* server) {
  char duration[64];
  lf_format_duration(duration, sizeof(duration), after_ms);
  return snprintf(out, size,
                  "the service has been unreachable for %s: control is back "
                  "with the device's own resolution of %s (S1-S10 on the "
                  "device)",
                  duration, server);
}

static int is_set(const char* text) { return text != NULL && text[0] != '\0'; }

struct lf_server lf_profile_server(const char* outbound_proxy,
                                   uint32_t outbound_proxy_port,
                                   const char* registrar_server,
                                   uint32_t registrar_server_port,
                                   const char* proxy_server,
                                   uint32_t proxy_server_port) {
  struct lf_server s;
  if (is_set(outbound_proxy)) {
    s.server = outbound_proxy;
    s.port = outbound_proxy_port;
  } else if (is_set(registrar_server)) {
    s.server = registrar_server;
    s.port = registrar_server_port;
  } else {
    /* The registrar is the proxy server: its port, else the proxy's. */
    s.server = is_set(proxy_server) ? proxy_server : "";
    s.port =
        registrar_server_port != 0 ? registrar_server_port : proxy_server_port;
  }
  return s;
}
