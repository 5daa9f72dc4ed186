/* agent_id: the id an agent gives itself when none is configured, the same
 * in both agents (sipresolver-agent and `sipresolver watch`/`report`): the
 * machine id (systemd's /etc/machine-id) hashed with SHA-256 after a salt of
 * this program's, so it is unique and stable per device and says nothing of
 * the machine id, which is meant to stay secret. Never the host name: phones
 * of one model often share one, and a fleet with one agent id gets one
 * spread order and counts as one reporter. Each agent hashes with its own
 * library (mbedTLS, OpenSSL); the salt and the form are here. Pure. */
#ifndef SIPRESOLVER_CLIENT_AGENT_ID_H_
#define SIPRESOLVER_CLIENT_AGENT_ID_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGENT_ID_SALT "sipresolver-agent:"
#define AGENT_ID_MACHINE_ID_FILE "/etc/machine-id"

enum { AGENT_ID_SIZE = 27 }; /* "m-", 24 hex digits, NUL. */

/* The length of the machine id at the start of `text` (a machine-id file's
 * content) without trailing whitespace; 0 when it is not one (shorter than
 * 16 characters). */
size_t agent_id_machine_id(const char* text, size_t len);

/* The id for `digest`, the SHA-256 of AGENT_ID_SALT followed by the machine
 * id: "m-" and the digest's first 12 bytes in hex. */
void agent_id_format(const unsigned char digest[32], char out[AGENT_ID_SIZE]);

#ifdef __cplusplus
}
#endif

#endif /* SIPRESOLVER_CLIENT_AGENT_ID_H_ */
