#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "local_failover.h"
#include "pbjson.h"

static const char* state_name(int state) {
  switch (state) {
    case STATE_SEARCHING:
      return "searching";
    case STATE_ACTIVE:
      return "active";
    case STATE_NO_WORKING_SERVER:
      return "no_working_server";
    case STATE_DEVICE_CONTROL:
      return "device_control";
    default:
      return "unknown";
  }
}

static const char* assurance_name(int assurance) {
  switch (assurance) {
    case ASSURANCE_PROBES:
      return "probes";
    case ASSURANCE_DEVICE_REPORTS:
      return "device_reports";
    case ASSURANCE_UNCONFIRMED:
      return "unconfirmed";
    default:
      return "";
  }
}

static const char* transport_name(int transport) {
  switch (transport) {
    case SIPRESOLVER__V1__TRANSPORT__TRANSPORT_TCP:
      return "tcp";
    case SIPRESOLVER__V1__TRANSPORT__TRANSPORT_TLS:
      return "tls";
    default:
      return "udp"; /* Unspecified means UDP, as for the device. */
  }
}

struct profile_server profile_server_of(const ItspProfile* p) {
  const struct lf_server s = lf_profile_server(
      p->outbound_proxy, p->outbound_proxy_port, p->registrar_server,
      p->registrar_server_port, p->proxy_server, p->proxy_server_port);
  return (struct profile_server){s.server, s.port,
                                 transport_name(p->proxy_server_transport)};
}

int applies_to_device(const Decision* d) {
  return (d->state == STATE_ACTIVE && d->primary) ||
         d->state == STATE_DEVICE_CONTROL;
}

void format_host_port(const char* address, uint32_t port, struct buf* out) {
  const int v6 = strchr(address, ':') != NULL;
  buf_printf(out, "%s%s%s:%" PRIu32, v6 ? "[" : "", address, v6 ? "]" : "",
             port);
}

static void where(const Candidate* c, struct buf* out) {
  const char* address = str_or_empty(c->address);
  format_host_port(address, c->port, out);
  if (c->target && *c->target && strcmp(c->target, address) != 0)
    buf_printf(out, " (%s)", c->target);
}

void format_decision_line(const Decision* d, struct buf* out) {
  buf_printf(out, "v%" PRIu64 " ", d->version);
  for (const char* s = state_name(d->state); *s; ++s)
    buf_putc(out, (char)(*s == '_' ? ' ' : *s));
  const char* assurance = assurance_name(d->assurance);
  if (strcmp(assurance, "unconfirmed") == 0)
    buf_puts(out, " (unconfirmed: the device's own choice)");
  else if (strcmp(assurance, "device_reports") == 0)
    buf_puts(out, " (confirmed by device reports; probes fail)");
  const char* separator = ": ";
  if (d->primary) {
    buf_printf(out, "%sprimary ", separator);
    where(d->primary, out);
    separator = ", ";
  }
  if (d->secondary) {
    buf_printf(out, "%ssecondary ", separator);
    where(d->secondary, out);
    separator = ", ";
  }
  if (d->n_primary_fallback > 0) {
    buf_printf(out, "%sfallback", separator);
    for (size_t i = 0; i < d->n_primary_fallback; ++i) {
      buf_putc(out, ' ');
      where(d->primary_fallback[i], out);
    }
    separator = ", ";
  }
  if (d->keep_alive_target) {
    buf_printf(out, "%skeep-alive %s:%" PRIu32, separator,
               str_or_empty(d->keep_alive_target->address),
               d->keep_alive_target->port);
  }
  if (d->reason && *d->reason) buf_printf(out, " - %s", d->reason);
  buf_putc(out, '\n');
}

void format_decision_json(const Decision* d, struct buf* out) {
  pbjson_print(&d->base, out);
  buf_putc(out, '\n');
}

void format_decision_file(const Decision* d, enum decision_source source,
                          struct buf* out) {
  buf_printf(out,
             "{\"schema\":\"sipresolver.decision-file/1\",\"source\":\"%s\","
             "\"decision\":",
             source == SOURCE_AGENT ? "agent" : "service");
  pbjson_print(&d->base, out);
  buf_puts(out, "}\n");
}

/* One "NAME=value\0" entry. */
static void put(struct buf* out, int* n, const char* name, const char* value) {
  buf_printf(out, "SIPRESOLVER_%s=%s", name, value);
  buf_putc(out, '\0');
  ++*n;
}

/* NAME, NAME_ADDRESS, NAME_PORT, NAME_TRANSPORT, NAME_TARGET; all empty
 * when `address` is NULL. */
static void put_server(struct buf* out, int* n, const char* name,
                       const char* address, uint32_t port,
                       const char* transport, const char* target) {
  char key[40], port_text[12];
  struct buf host_port = BUF_INIT;
  if (address) format_host_port(address, port, &host_port);
  snprintf(port_text, sizeof port_text, "%" PRIu32, port);
  put(out, n, name, address ? str_or_empty(host_port.data) : "");
  buf_free(&host_port);
  snprintf(key, sizeof key, "%s_ADDRESS", name);
  put(out, n, key, address ? address : "");
  snprintf(key, sizeof key, "%s_PORT", name);
  put(out, n, key, address ? port_text : "");
  snprintf(key, sizeof key, "%s_TRANSPORT", name);
  put(out, n, key, address ? transport : "");
  snprintf(key, sizeof key, "%s_TARGET", name);
  put(out, n, key, !address ? "" : target && *target ? target : address);
}

void hook_environment(const Decision* d, enum decision_source source,
                      const ItspProfile* profile, const char* decision_file,
                      struct buf* out, int* n) {
  char number[24];
  *n = 0;
  snprintf(number, sizeof number, "%d", HOOK_CONTRACT_VERSION);
  put(out, n, "HOOK_CONTRACT", number);
  put(out, n, "STATE", state_name(d->state));
  put(out, n, "ASSURANCE", assurance_name(d->assurance));
  put(out, n, "PROBE_PATH_SUSPECT", d->probe_path_suspect ? "1" : "0");
  snprintf(number, sizeof number, "%" PRIu64, d->version);
  put(out, n, "VERSION", number);
  put(out, n, "MAPPED", ""); /* The device knows its own mapping (N1-N3). */
  put(out, n, "MAPPED_BY", "");
  put(out, n, "DECISION_FILE", decision_file ? decision_file : "");
  put(out, n, "SOURCE", source == SOURCE_AGENT ? "agent" : "service");
  const struct profile_server server = profile_server_of(profile);
  put(out, n, "PROFILE_SERVER", server.name);
  snprintf(number, sizeof number, "%" PRIu32, server.port);
  put(out, n, "PROFILE_PORT", server.port ? number : "");
  put(out, n, "PROFILE_TRANSPORT", server.transport);
  const char* transport = transport_name(profile->proxy_server_transport);
  const Candidate *p = d->primary, *s = d->secondary;
  put_server(out, n, "PRIMARY", p ? str_or_empty(p->address) : NULL,
             p ? p->port : 0, transport, p ? p->target : NULL);
  put_server(out, n, "SECONDARY", s ? str_or_empty(s->address) : NULL,
             s ? s->port : 0, transport, s ? s->target : NULL);
  const Endpoint* k = d->keep_alive_target;
  put_server(out, n, "KEEPALIVE", k ? str_or_empty(k->address) : NULL,
             k ? k->port : 0, k ? transport_name(k->transport) : "", NULL);
}

int write_file_atomically(const char* path, const char* data, size_t len) {
  char temp[4096];
  if (snprintf(temp, sizeof temp, "%s.tmp.%ld", path, (long)getpid()) >=
      (int)sizeof temp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  const int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < len) {
    const ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      close(fd);
      unlink(temp);
      errno = saved;
      return -1;
    }
    done += (size_t)n;
  }
  if (close(fd) != 0 || rename(temp, path) != 0) {
    const int saved = errno;
    unlink(temp);
    errno = saved;
    return -1;
  }
  return 0;
}
