#include "reports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int address_of(const char* path, struct sockaddr_un* a, char* error,
                      size_t error_size) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a->sun_path) {
    snprintf(error, error_size, "--report_socket: path longer than %zu bytes",
             sizeof a->sun_path - 1);
    return -1;
  }
  strcpy(a->sun_path, path);
  return 0;
}

int report_socket_open(struct report_socket* s, const char* path, char* error,
                       size_t error_size) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->path = path;
  struct sockaddr_un a;
  if (address_of(path, &a, error, error_size) != 0) return -1;
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      chmod(path, 0660) != 0) {
    snprintf(error, error_size, "--report_socket %s: %s", path,
             strerror(errno));
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    return -1;
  }
  return 0;
}

void report_socket_read(struct report_socket* s,
                        void (*on_report)(void* arg,
                                          const struct device_report* report),
                        void* arg) {
  char datagram[2048];
  while (s->fd >= 0) {
    const ssize_t n = recv(s->fd, datagram, sizeof datagram, MSG_TRUNC);
    if (n < 0) return; /* EAGAIN: all read. */
    if ((size_t)n > sizeof datagram) {
      ++s->bad;
      log_line("report dropped: a datagram over %zu bytes", sizeof datagram);
      continue;
    }
    for (const char *line = datagram, *end = datagram + n; line < end;) {
      const char* newline = memchr(line, '\n', (size_t)(end - line));
      const char* line_end = newline ? newline : end;
      size_t len = (size_t)(line_end - line);
      size_t blank = 0;
      while (blank < len &&
             (line[blank] == ' ' || line[blank] == '\t' || line[blank] == '\r'))
        ++blank;
      if (blank < len) {
        struct device_report report;
        const char* reason;
        if (device_report_parse(line, len, &report, &reason) == 0) {
          ++s->good;
          on_report(arg, &report);
        } else {
          ++s->bad;
          log_line("bad report line (%u so far): %s: %.*s", s->bad, reason,
                   (int)(len > 80 ? 80 : len), line);
        }
      }
      line = line_end + 1;
    }
  }
}

void report_socket_close(struct report_socket* s) {
  if (s->fd < 0) return;
  close(s->fd);
  unlink(s->path);
  s->fd = -1;
}

int report_socket_send(const char* path, const char* line, char* error,
                       size_t error_size) {
  struct sockaddr_un a;
  if (address_of(path, &a, error, error_size) != 0) return -1;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 ||
      sendto(fd, line, strlen(line), 0, (struct sockaddr*)&a, sizeof a) < 0) {
    snprintf(error, error_size, "--report_socket %s: %s", path,
             strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}
