/* resolve: the service's name to addresses without blocking the agent's one
 * thread. getaddrinfo() blocks for as long as DNS takes (seconds when the
 * network is bad, exactly when the agent must keep serving its device's
 * reports), so it runs in a short-lived child process that writes the
 * addresses to a pipe the loop polls. An IP literal needs no child. */
#ifndef SIPRESOLVER_AGENT_RESOLVE_H_
#define SIPRESOLVER_AGENT_RESOLVE_H_

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

enum { RESOLVE_MAX_ADDRESSES = 16 };

struct resolved {
  struct sockaddr_storage addresses[RESOLVE_MAX_ADDRESSES];
  socklen_t lengths[RESOLVE_MAX_ADDRESSES];
  int count;
};

struct resolve_job {
  pid_t pid; /* The child, 0 when none. */
  int fd;    /* Its pipe, -1 when none. */
  unsigned char buffer[sizeof(struct resolved) + 128]; /* + a reason. */
  size_t got;
};

/* Starts resolving `host` (a name, or an IPv4/IPv6 literal without brackets)
 * for TCP port `port`. Returns 1 when the result is already in `out` (a
 * literal), 0 when a child is at work (poll job->fd for POLLIN, then call
 * resolve_finish), -1 with a reason on failure to start. */
int resolve_start(struct resolve_job* job, const char* host, const char* port,
                  struct resolved* out, char* error, size_t error_size);
/* Adds `host` (an IPv4 or IPv6 literal, no brackets) and `port` to `out`;
 * 0 when `host` is not a literal or `out` is full. */
int resolve_literal(const char* host, const char* port, struct resolved* out);
/* Reads what the child wrote; 1 when done (out->count addresses, 0 when the
 * name did not resolve: the reason is in `error`), 0 when more is to come. */
int resolve_finish(struct resolve_job* job, struct resolved* out, char* error,
                   size_t error_size);
/* Kills a child still at work (a timeout, or the agent is ending). */
void resolve_cancel(struct resolve_job* job);

#endif /* SIPRESOLVER_AGENT_RESOLVE_H_ */
