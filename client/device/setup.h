/* setup: the agent's flags turned into what the run needs, every check that
 * can fail done before anything starts (a usage error, exit 2): the
 * profile parsed (JSON or @FILE), the agent id (given, or derived from
 * /etc/machine-id), the spread mode, the server split into host and port,
 * the TLS files readable. */
#ifndef SIPRESOLVER_AGENT_SETUP_H_
#define SIPRESOLVER_AGENT_SETUP_H_

#include <stddef.h>

#include "agent_id.h"
#include "flags.h"
#include "messages.h"
#include "resolve.h"
#include "tls.h"

struct agent_config {
  const struct agent_flags* flags;
  ItspProfile* profile;
  const char* agent_id; /* --agent_id, or `derived_id`. */
  char derived_id[AGENT_ID_SIZE];
  int spread_mode; /* Sipresolver__V1__SpreadMode. */
  char host[256];  /* Without brackets. */
  /* gRPC's "ipv4:ADDR:PORT,..." or "ipv6:[ADDR]:PORT,..." form of --server:
   * these addresses, no resolution. Empty otherwise. */
  struct resolved literals;
  char port[6];
  char authority[300]; /* :authority: --server as given. */
  int use_tls;
  struct tls_files tls;
  const char* server_name; /* TLS: --tls_server_name, else the host. */
};

/* 0, or -1 with a usage error in `error`. */
int setup_config(const struct agent_flags* flags, struct agent_config* config,
                 char* error, size_t error_size);
void setup_free(struct agent_config* config);

/* The agent id derived from the machine id in the file at `path`
 * (client/agent_id.h); 0, or -1 when the file holds none. */
int setup_derive_agent_id(const char* path, char out[AGENT_ID_SIZE]);

#endif /* SIPRESOLVER_AGENT_SETUP_H_ */
