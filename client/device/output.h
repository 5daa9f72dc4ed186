/* output: how the agent hands a decision on, exactly as `sipresolver watch`
 * does (docs/agents.md "Hook and file contract"): the line printed for people,
 * the JSON line printed with --json, the decision file (--output_file, written
 * atomically, docs/decision-file.schema.json) and the hook's environment
 * (contract version 3). */
#ifndef SIPRESOLVER_AGENT_OUTPUT_H_
#define SIPRESOLVER_AGENT_OUTPUT_H_

#include "buf.h"
#include "messages.h"

enum { HOOK_CONTRACT_VERSION = 3 };

/* Who decided: the service, or the agent on its own without it. */
enum decision_source { SOURCE_SERVICE, SOURCE_AGENT };

/* The server the profile configures for redundancy (S3: the outbound proxy
 * when set, else the registrar, else the proxy server), for the device's
 * own resolution. */
struct profile_server {
  const char* name;
  uint32_t port;         /* 0: not configured. */
  const char* transport; /* "udp", "tcp", "tls". */
};
struct profile_server profile_server_of(const ItspProfile* profile);

/* Whether the decision goes to the file and the hook: an ACTIVE one (it
 * names a primary) or DEVICE_CONTROL. Never SEARCHING or NO_WORKING_SERVER:
 * "no server" would tear down a registration that may still work. */
int applies_to_device(const Decision* d);

/* "v17 active: primary 192.0.2.1:5060 (pbx1.test), ... - reason\n". */
void format_decision_line(const Decision* d, struct buf* out);
/* The Decision as one line of protobuf JSON and "\n". */
void format_decision_json(const Decision* d, struct buf* out);
/* The decision file's content (schema, source, decision) and "\n". */
void format_decision_file(const Decision* d, enum decision_source source,
                          struct buf* out);
/* "HOST:PORT", an IPv6 address in brackets. */
void format_host_port(const char* address, uint32_t port, struct buf* out);

/* The hook's variables as "NAME=value\0" entries, one after the other in
 * `out` (count in *n). */
void hook_environment(const Decision* d, enum decision_source source,
                      const ItspProfile* profile, const char* decision_file,
                      struct buf* out, int* n);

/* Writes `data` to `path` through a temporary file and rename(), so readers
 * never see half a decision. 0, or -1 with errno set. */
int write_file_atomically(const char* path, const char* data, size_t len);

#endif /* SIPRESOLVER_AGENT_OUTPUT_H_ */
