/* flags: sipresolver-agent's command line, in the form `sipresolver watch`
 * takes it (--name=value, --name value, --bool, --nobool; durations like
 * 30s, 1m30s, 500ms), so one command line works for either agent. */
#ifndef SIPRESOLVER_AGENT_FLAGS_H_
#define SIPRESOLVER_AGENT_FLAGS_H_

#include <stddef.h>
#include <stdint.h>

struct agent_flags {
  const char* server;   /* HOST:PORT, [IPv6]:PORT. */
  const char* profile;  /* ItspProfile JSON, or @FILE. */
  const char* agent_id; /* Empty: derived from /etc/machine-id. */
  const char* spread;   /* "", "spread", "device_order". */
  const char* hook;     /* Run by /bin/sh -c on each applied decision. */
  int64_t hook_timeout_ms;
  const char* output_file; /* The decision file. */
  int json;                /* Decisions as JSON lines on stdout. */
  int once;                /* Exit after the first active decision. */
  const char* tls_ca_file;
  const char* tls_cert_file;
  const char* tls_key_file;
  const char* tls_server_name;
  const char* report_socket; /* Unix datagram socket for device reports. */
  const char* report;        /* Send this report line to --report_socket. */
  int64_t device_control_after_ms; /* 0: never. */
  int64_t stall_timeout_ms;
  int64_t keepalive_time_ms;
  int64_t keepalive_timeout_ms;
  int64_t connect_timeout_ms;
  int64_t initial_backoff_ms;
  int64_t max_backoff_ms;
  size_t max_message_bytes;
  int help;
};

/* Defaults, then argv. 0, or -1 with a usage error in `error`. */
int flags_parse(int argc, char** argv, struct agent_flags* flags, char* error,
                size_t error_size);
/* The help text. */
const char* flags_usage(void);
/* A duration ("1m30s", "500ms", "0"); -1 when it is not one. */
int64_t flags_parse_duration_ms(const char* text);

#endif /* SIPRESOLVER_AGENT_FLAGS_H_ */
