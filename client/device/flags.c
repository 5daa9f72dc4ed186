#include "flags.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STRING, BOOL, DURATION, SIZE };

struct flag {
  const char* name;
  enum kind kind;
  size_t offset;
  const char* help;
};

#define F(name, kind, help) \
  { #name, kind, offsetof(struct agent_flags, name), help }
#define D(name, help) \
  { #name, DURATION, offsetof(struct agent_flags, name##_ms), help }
static const struct flag kFlags[] = {
    F(server, STRING,
      "Address of sipresolverd, HOST:PORT (default localhost:50051)."),
    F(profile, STRING,
      "The ItspProfile as JSON, e.g. '{\"proxy_server\": \"itsp.example.com\", "
      "\"proxy_server_redundancy\": true}', or @FILE holding it. Required."),
    F(agent_id, STRING,
      "This device's stable id (1-128 printable characters); default: "
      "derived from /etc/machine-id."),
    F(spread, STRING,
      "spread (default: a fleet spreads over servers of equal priority) or "
      "device_order (exactly the device's own order)."),
    F(hook, STRING,
      "Shell command run on each decision the device applies (active, "
      "device_control), one at a time, newest first, in a process group of "
      "its own, with SIPRESOLVER_HOOK_CONTRACT=3, _STATE, _SOURCE, "
      "_ASSURANCE, _PROBE_PATH_SUSPECT, _VERSION, _PRIMARY (+ _ADDRESS, "
      "_PORT, _TRANSPORT, _TARGET), _SECONDARY..., _KEEPALIVE..., "
      "_PROFILE_SERVER, _PROFILE_PORT, _PROFILE_TRANSPORT, _DECISION_FILE "
      "(docs/agents.md: Hook and file contract)."),
    D(hook_timeout,
      "A hook still running after this is killed with its process group "
      "(default 30s)."),
    F(output_file, STRING,
      "Write each decision the device applies here, atomically (JSON, "
      "docs/decision-file.schema.json)."),
    F(json, BOOL,
      "Print each new decision as one line of JSON instead of text."),
    F(once, BOOL, "Exit after the first active decision (and its hook)."),
    F(tls_ca_file, STRING,
      "Connect with TLS, trusting the CAs in this PEM file."),
    F(tls_cert_file, STRING, "Client certificate (PEM) for mutual TLS."),
    F(tls_key_file, STRING, "Key (PEM) of --tls_cert_file."),
    F(tls_server_name, STRING,
      "Name the server's certificate must carry, when it differs from "
      "--server's host."),
    F(report_socket, STRING,
      "Unix datagram socket for the device's REGISTER outcomes, one line "
      "'ADDRESS:PORT CODE' each (CODE the final response, 0 for none); they "
      "go to the service, and move the device down its candidates while the "
      "service is unreachable."),
    F(report, STRING,
      "Send this line ('ADDRESS:PORT CODE') to --report_socket and exit."),
    D(device_control_after,
      "Without the service for this long, hand control back to the device's "
      "own resolution (state device_control); 0 (default) never."),
    D(stall_timeout,
      "A stream without a message for this long is broken (default 90s)."),
    D(keepalive_time,
      "Ping the service after this long without a byte from it (default 45s, "
      "at least 10s; doubled when the server says too_many_pings)."),
    D(keepalive_timeout,
      "A ping unanswered for this long means the connection is dead (default "
      "20s)."),
    D(connect_timeout,
      "Connecting (TCP and TLS) to one address (default 10s)."),
    D(initial_backoff,
      "First reconnect wait, doubled up to --max_backoff, with full jitter "
      "(default 500ms)."),
    D(max_backoff, "Longest reconnect wait (default 30s)."),
    F(max_message_bytes, SIZE,
      "Largest message accepted from the service (default 262144)."),
    F(help, BOOL, "Print this help."),
};
#undef F
#undef D

static void set_defaults(struct agent_flags* f) {
  memset(f, 0, sizeof *f);
  f->server = "localhost:50051";
  f->profile = f->agent_id = f->spread = f->hook = f->output_file = "";
  f->tls_ca_file = f->tls_cert_file = f->tls_key_file = "";
  f->tls_server_name = f->report_socket = "";
  f->report = NULL;
  f->hook_timeout_ms = 30000;
  f->stall_timeout_ms = 90000;
  f->keepalive_time_ms = 45000;
  f->keepalive_timeout_ms = 20000;
  f->connect_timeout_ms = 10000;
  f->initial_backoff_ms = 500;
  f->max_backoff_ms = 30000;
  f->max_message_bytes = (size_t)256 * 1024;
}

int64_t flags_parse_duration_ms(const char* text) {
  if (strcmp(text, "0") == 0) return 0;
  if (*text == '\0') return -1;
  double total_ms = 0;
  const char* p = text;
  while (*p) {
    if ((*p < '0' || *p > '9') && *p != '.') return -1;
    char* end;
    const double value = strtod(p, &end);
    if (end == p) return -1;
    p = end;
    double unit;
    if (strncmp(p, "ms", 2) == 0) {
      unit = 1, p += 2;
    } else if (strncmp(p, "us", 2) == 0) {
      unit = 1e-3, p += 2;
    } else if (strncmp(p, "ns", 2) == 0) {
      unit = 1e-6, p += 2;
    } else if (*p == 'h') {
      unit = 3600e3, p += 1;
    } else if (*p == 'm') {
      unit = 60e3, p += 1;
    } else if (*p == 's') {
      unit = 1e3, p += 1;
    } else {
      return -1;
    }
    total_ms += value * unit;
    if (total_ms > 1e15) return -1;
  }
  return (int64_t)(total_ms + 0.5);
}

static int set_value(struct agent_flags* flags, const struct flag* f,
                     const char* value, char* error, size_t error_size) {
  void* field = (char*)flags + f->offset;
  switch (f->kind) {
    case STRING:
      *(const char**)field = value;
      return 0;
    case BOOL:
      if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
        *(int*)field = 1;
      } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
        *(int*)field = 0;
      } else {
        snprintf(error, error_size, "--%s: expected true or false, not '%s'",
                 f->name, value);
        return -1;
      }
      return 0;
    case DURATION: {
      const int64_t ms = flags_parse_duration_ms(value);
      if (ms < 0) {
        snprintf(error, error_size,
                 "--%s: '%s' is not a duration (e.g. 30s, 1m30s, 500ms)",
                 f->name, value);
        return -1;
      }
      *(int64_t*)field = ms;
      return 0;
    }
    case SIZE: {
      char* end;
      const unsigned long long n = strtoull(value, &end, 10);
      if (*value < '0' || *value > '9' || *end || n > (1u << 30)) {
        snprintf(error, error_size, "--%s: '%s' is not a size in bytes",
                 f->name, value);
        return -1;
      }
      *(size_t*)field = (size_t)n;
      return 0;
    }
  }
  return -1;
}

static int check(const struct agent_flags* f, char* error, size_t error_size) {
  const char* problem = NULL;
  if (f->keepalive_time_ms < 10000)
    problem =
        "--keepalive_time must be at least 10s (servers refuse faster pings)";
  else if (f->keepalive_timeout_ms < 1000)
    problem = "--keepalive_timeout must be at least 1s";
  else if (f->stall_timeout_ms < 1000)
    problem = "--stall_timeout must be at least 1s";
  else if (f->connect_timeout_ms < 100)
    problem = "--connect_timeout must be at least 100ms";
  else if (f->hook_timeout_ms < 1)
    problem = "--hook_timeout must be above 0";
  else if (f->initial_backoff_ms < 1 ||
           f->max_backoff_ms < f->initial_backoff_ms)
    problem = "--initial_backoff must be above 0 and at most --max_backoff";
  else if (f->max_message_bytes < 1024)
    problem = "--max_message_bytes must be at least 1024";
  else if (!*f->tls_ca_file &&
           (*f->tls_cert_file || *f->tls_key_file || *f->tls_server_name))
    problem =
        "--tls_cert_file, --tls_key_file and --tls_server_name need "
        "--tls_ca_file";
  else if (!*f->tls_cert_file != !*f->tls_key_file)
    problem = "--tls_cert_file and --tls_key_file go together";
  else if (f->report && !*f->report_socket)
    problem = "--report needs --report_socket";
  if (!problem) return 0;
  snprintf(error, error_size, "%s", problem);
  return -1;
}

int flags_parse(int argc, char** argv, struct agent_flags* flags, char* error,
                size_t error_size) {
  set_defaults(flags);
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strncmp(arg, "--", 2) != 0) {
      snprintf(error, error_size, "unexpected argument '%s'", arg);
      return -1;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    const size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const struct flag* found = NULL;
    int negated = 0;
    for (size_t k = 0; k < sizeof kFlags / sizeof kFlags[0]; ++k) {
      const char* n = kFlags[k].name;
      if (strlen(n) == name_len && strncmp(n, name, name_len) == 0) {
        found = &kFlags[k];
      } else if (kFlags[k].kind == BOOL && !eq && name_len == strlen(n) + 2 &&
                 strncmp(name, "no", 2) == 0 &&
                 strncmp(name + 2, n, strlen(n)) == 0) {
        found = &kFlags[k];
        negated = 1;
      }
      if (found) break;
    }
    if (!found) {
      snprintf(error, error_size, "unknown flag --%.*s", (int)name_len, name);
      return -1;
    }
    const char* value = eq ? eq + 1 : NULL;
    if (!value && found->kind == BOOL) value = negated ? "false" : "true";
    if (!value) {
      if (i + 1 >= argc) {
        snprintf(error, error_size, "--%s needs a value", found->name);
        return -1;
      }
      value = argv[++i];
    }
    if (set_value(flags, found, value, error, error_size) != 0) return -1;
  }
  return flags->help ? 0 : check(flags, error, error_size);
}

const char* flags_usage(void) {
  static char text[6000];
  if (text[0]) return text;
  size_t n = (size_t)snprintf(
      text, sizeof text,
      "Usage: sipresolver-agent --server=HOST:PORT --profile=JSON|@FILE "
      "[flags]\n\nWatches the redundancy decision for the device's ITSP "
      "profile and hands each\nnew one to --hook and --output_file (and "
      "stdout). Exit status: 0 after\nSIGINT/SIGTERM or --once, 1 when the "
      "service refuses the profile, 2 for\nusage errors.\n\nFlags:\n");
  for (size_t k = 0; k < sizeof kFlags / sizeof kFlags[0] && n < sizeof text;
       ++k) {
    n += (size_t)snprintf(text + n, sizeof text - n, "  --%s\n      %s\n",
                          kFlags[k].name, kFlags[k].help);
  }
  return text;
}
