#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child writes: the addresses, then a reason when there are none.
 * Under PIPE_BUF, so one write() carries it whole. */
struct answer {
  struct resolved resolved;
  char error[128];
};
_Static_assert(sizeof(struct answer) <= 4096, "one atomic pipe write");
_Static_assert(sizeof(struct answer) ==
                   sizeof(((struct resolve_job*)0)->buffer),
               "the job's buffer holds one answer");

int resolve_literal(const char* host, const char* port, struct resolved* out) {
  struct sockaddr_in v4 = {0};
  struct sockaddr_in6 v6 = {0};
  const int number = atoi(port);
  const int i = out->count;
  if (i >= RESOLVE_MAX_ADDRESSES) return 0;
  if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons((uint16_t)number);
    memcpy(&out->addresses[i], &v4, sizeof v4);
    out->lengths[i] = sizeof v4;
  } else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons((uint16_t)number);
    memcpy(&out->addresses[i], &v6, sizeof v6);
    out->lengths[i] = sizeof v6;
  } else {
    return 0;
  }
  out->count = i + 1;
  return 1;
}

/* In the child: resolve, write, exit. Nothing here may touch the parent's
 * state (it is a copy; only async-signal-safe calls after the lookup). */
static void child(int fd, const char* host, const char* port) {
  struct answer answer;
  memset(&answer, 0, sizeof answer);
  struct addrinfo hints = {0}, *list = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const int rc = getaddrinfo(host, port, &hints, &list);
  if (rc != 0) {
    snprintf(answer.error, sizeof answer.error, "%s", gai_strerror(rc));
  }
  for (struct addrinfo* a = list;
       a && answer.resolved.count < RESOLVE_MAX_ADDRESSES; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(struct sockaddr_storage)) continue;
    memcpy(&answer.resolved.addresses[answer.resolved.count], a->ai_addr,
           a->ai_addrlen);
    answer.resolved.lengths[answer.resolved.count++] = a->ai_addrlen;
  }
  if (list) freeaddrinfo(list);
  if (rc == 0 && answer.resolved.count == 0)
    snprintf(answer.error, sizeof answer.error, "no address");
  ssize_t ignored = write(fd, &answer, sizeof answer);
  (void)ignored;
  _exit(0);
}

int resolve_start(struct resolve_job* job, const char* host, const char* port,
                  struct resolved* out, char* error, size_t error_size) {
  memset(out, 0, sizeof *out);
  job->pid = 0;
  job->fd = -1;
  job->got = 0;
  if (resolve_literal(host, port, out)) return 1;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(error, error_size, "resolving %s: %s", host, strerror(errno));
    return -1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    snprintf(error, error_size, "resolving %s: %s", host, strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    close(fds[0]);
    /* Default dispositions: the parent's handlers write to its own pipe. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    child(fds[1], host, port);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  job->pid = pid;
  job->fd = fds[0];
  return 0;
}

int resolve_finish(struct resolve_job* job, struct resolved* out, char* error,
                   size_t error_size) {
  struct answer* answer = (struct answer*)job->buffer;
  while (job->got < sizeof job->buffer) {
    const ssize_t n =
        read(job->fd, job->buffer + job->got, sizeof job->buffer - job->got);
    if (n > 0) {
      job->got += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    break; /* End of file, or an error: what came is all there is. */
  }
  const int complete = job->got == sizeof(struct answer);
  resolve_cancel(job);
  memset(out, 0, sizeof *out);
  if (!complete) {
    snprintf(error, error_size, "the resolver process ended early");
    return 1;
  }
  *out = answer->resolved;
  if (out->count < 0 || out->count > RESOLVE_MAX_ADDRESSES) out->count = 0;
  answer->error[sizeof answer->error - 1] = '\0';
  if (out->count == 0) snprintf(error, error_size, "%s", answer->error);
  return 1;
}

void resolve_cancel(struct resolve_job* job) {
  if (job->fd >= 0) close(job->fd);
  if (job->pid > 0) {
    kill(job->pid, SIGKILL);
    while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  job->fd = -1;
  job->pid = 0;
}
