#include "setup.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_id.h"
#include "pbjson.h"

/* The whole file at `path` (NUL-terminated, malloc'd), or NULL. */
static char* read_file(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char* data = malloc(cap);
  while (data) {
    n += fread(data + n, 1, cap - n - 1, f);
    if (n < cap - 1 || cap > (1u << 20)) break;
    char* bigger = realloc(data, cap *= 2);
    if (!bigger) free(data);
    data = bigger;
  }
  const int failed = ferror(f) || !data;
  fclose(f);
  if (failed) {
    free(data);
    return NULL;
  }
  data[n] = '\0';
  *len = n;
  return data;
}

static int parse_profile(const char* text, struct agent_config* c, char* error,
                         size_t error_size) {
  if (!*text) {
    snprintf(error, error_size,
             "sipresolver-agent needs --profile='{\"proxy_server\": \"...\"}' "
             "or --profile=@FILE");
    return -1;
  }
  size_t len = strlen(text);
  char* file = NULL;
  if (*text == '@') {
    file = read_file(text + 1, &len);
    if (!file) {
      snprintf(error, error_size, "--profile: cannot read %s", text + 1);
      return -1;
    }
    text = file;
  }
  char reason[200];
  c->profile =
      (ItspProfile*)pbjson_parse(&sipresolver__v1__itsp_profile__descriptor,
                                 text, len, reason, sizeof reason);
  free(file);
  if (!c->profile) {
    snprintf(error, error_size, "--profile is not an ItspProfile in JSON: %s",
             reason);
    return -1;
  }
  return 0;
}

int setup_derive_agent_id(const char* path, char out[AGENT_ID_SIZE]) {
  size_t len = 0;
  char* text = read_file(path, &len);
  const size_t id_len = text ? agent_id_machine_id(text, len) : 0;
  if (id_len == 0) {
    free(text);
    return -1;
  }
  static const char kSalt[] = AGENT_ID_SALT;
  unsigned char digest[32];
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  mbedtls_sha256_starts_ret(&sha, 0);
  mbedtls_sha256_update_ret(&sha, (const unsigned char*)kSalt,
                            sizeof kSalt - 1);
  mbedtls_sha256_update_ret(&sha, (const unsigned char*)text, id_len);
  mbedtls_sha256_finish_ret(&sha, digest);
  mbedtls_sha256_free(&sha);
  free(text);
  agent_id_format(digest, out);
  return 0;
}

static int split_server(const char* server, struct agent_config* c, char* error,
                        size_t error_size) {
  const char *host = server, *host_end, *port = NULL;
  if (*server == '[') {
    host = server + 1;
    host_end = strchr(host, ']');
    if (!host_end || (host_end[1] && host_end[1] != ':')) goto bad;
    if (host_end[1] == ':') port = host_end + 2;
  } else {
    host_end = strrchr(server, ':');
    if (host_end && strchr(server, ':') != host_end) goto bad; /* IPv6. */
    if (host_end)
      port = host_end + 1;
    else
      host_end = server + strlen(server);
  }
  const size_t host_len = (size_t)(host_end - host);
  if (host_len == 0 || host_len >= sizeof c->host) goto bad;
  memcpy(c->host, host, host_len);
  c->host[host_len] = '\0';
  if (!port) port = "443"; /* As gRPC does for a name without a port. */
  char* end;
  const long number = strtol(port, &end, 10);
  if (*port < '0' || *port > '9' || *end || number < 1 || number > 65535)
    goto bad;
  snprintf(c->port, sizeof c->port, "%ld", number);
  snprintf(c->authority, sizeof c->authority, "%s", server);
  return 0;
bad:
  snprintf(error, error_size,
           "--server: '%s' is not HOST:PORT ([IPv6]:PORT for an IPv6 address)",
           server);
  return -1;
}

/* gRPC's address-list targets, as `watch` takes them: "ipv4:127.0.0.1:5001,
 * 127.0.0.1:5002" or "ipv6:[::1]:5001,...". The first names the host for TLS
 * and :authority. 1 when `server` is one, 0 when not, -1 when malformed. */
static int parse_address_list(const char* server, struct agent_config* c,
                              char* error, size_t error_size) {
  if (strncmp(server, "ipv4:", 5) != 0 && strncmp(server, "ipv6:", 5) != 0)
    return 0;
  char list[1024];
  snprintf(list, sizeof list, "%s", server + 5);
  char* save = NULL;
  for (char* item = strtok_r(list, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    struct agent_config one;
    if (c->literals.count == RESOLVE_MAX_ADDRESSES ||
        split_server(item, &one, error, error_size) != 0)
      return -1;
    if (c->literals.count == 0) {
      memcpy(c->host, one.host, sizeof c->host);
      memcpy(c->port, one.port, sizeof c->port);
      snprintf(c->authority, sizeof c->authority, "%s", item);
    }
    if (!resolve_literal(one.host, one.port, &c->literals)) return -1;
  }
  return c->literals.count > 0 ? 1 : -1;
}

int setup_config(const struct agent_flags* f, struct agent_config* c,
                 char* error, size_t error_size) {
  memset(c, 0, sizeof *c);
  c->flags = f;
  const int list = parse_address_list(f->server, c, error, error_size);
  if (list < 0 ||
      (list == 0 && split_server(f->server, c, error, error_size) != 0)) {
    snprintf(error, error_size,
             "--server: '%s' is not HOST:PORT, [IPv6]:PORT or ipv4:/ipv6: "
             "followed by such addresses",
             f->server);
    return -1;
  }
  if (strcasecmp(f->spread, "") == 0 || strcasecmp(f->spread, "spread") == 0) {
    c->spread_mode = SIPRESOLVER__V1__SPREAD_MODE__SPREAD_MODE_SPREAD;
  } else if (strcasecmp(f->spread, "device_order") == 0) {
    c->spread_mode = SIPRESOLVER__V1__SPREAD_MODE__SPREAD_MODE_DEVICE_ORDER;
  } else {
    snprintf(error, error_size, "bad --spread \"%s\": spread or device_order",
             f->spread);
    return -1;
  }
  c->agent_id = f->agent_id; /* The service checks it (1-128 printable). */
  if (!*c->agent_id) {
    if (setup_derive_agent_id(AGENT_ID_MACHINE_ID_FILE, c->derived_id) != 0) {
      snprintf(error, error_size,
               "--agent_id is required: there is no " AGENT_ID_MACHINE_ID_FILE
               " to derive one from");
      return -1;
    }
    c->agent_id = c->derived_id;
  }
  c->use_tls = *f->tls_ca_file != '\0';
  c->tls.ca_file = f->tls_ca_file;
  c->tls.cert_file = *f->tls_cert_file ? f->tls_cert_file : NULL;
  c->tls.key_file = *f->tls_key_file ? f->tls_key_file : NULL;
  c->server_name = *f->tls_server_name ? f->tls_server_name : c->host;
  if (c->use_tls && tls_check_files(&c->tls, error, error_size) != 0) return -1;
  return parse_profile(f->profile, c, error, error_size);
}

void setup_free(struct agent_config* c) {
  message_free(c->profile);
  c->profile = NULL;
}
