#include "reports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
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

/* Whether some process is bound to the socket at `a`: a datagram socket
 * connects to it only then (ECONNREFUSED for a file a killed agent left). */
static int in_use(const struct sockaddr_un* a) {
  const int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return 0;
  const int connected =
      connect(probe, (const struct sockaddr*)a, sizeof *a) == 0;
  close(probe);
  return connected;
}

int report_socket_open(struct report_socket* s, const char* path, char* error,
                       size_t error_size) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->path = path;
  struct sockaddr_un a;
  if (address_of(path, &a, error, error_size) != 0) return -1;
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      snprintf(error, error_size,
               "--report_socket: %s exists and is not a socket", path);
      return -1;
    }
    if (in_use(&a)) {
      snprintf(error, error_size,
               "--report_socket: another process is bound to %s", path);
      return -1;
    }
    unlink(path); /* Stale: left by an agent that was killed. */
  }
  s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      chmod(path, 0660) != 0) {
    snprintf(error, error_size, "--report_socket %s: %s", path,
             strerror(errno));
    if (s->fd >= 0) {
      close(s->fd);
      unlink(path);
    }
    s->fd = -1;
    return -1;
  }
  return 0;
}

/* `line` as absl::CHexEscape shows it, for a log line: quotes, backslashes
 * and control bytes escaped, never a raw byte from the network. */
static void escape(const char* line, size_t len, struct buf* out) {
  for (size_t i = 0; i < len; ++i) {
    const unsigned char c = (unsigned char)line[i];
    switch (c) {
      case '\n':
        buf_puts(out, "\\n");
        break;
      case '\r':
        buf_puts(out, "\\r");
        break;
      case '\t':
        buf_puts(out, "\\t");
        break;
      case '"':
      case '\'':
      case '\\':
        buf_putc(out, '\\');
        buf_putc(out, (char)c);
        break;
      default:
        if (c >= 0x20 && c < 0x7f)
          buf_putc(out, (char)c);
        else
          buf_printf(out, "\\x%02x", c);
    }
  }
}

void report_socket_read(struct report_socket* s,
                        void (*on_report)(void* arg,
                                          const struct device_report* report),
                        void* arg) {
  static char datagram[65536]; /* One thread; touched only as far as used. */
  while (s->fd >= 0) {
    const ssize_t n = recv(s->fd, datagram, sizeof datagram, 0);
    if (n < 0) return; /* EAGAIN: all read. */
    const char *cursor = datagram, *line;
    size_t len;
    while (device_report_next_line(&cursor, datagram + n, &line, &len)) {
      struct device_report report;
      const char* reason;
      if (device_report_parse(line, len, &report, &reason) == 0) {
        ++s->good;
        on_report(arg, &report);
        continue;
      }
      ++s->bad;
      enum { kShown = 100 };
      struct buf text = BUF_INIT;
      escape(line, len < kShown ? len : kShown, &text);
      log_line("report socket: bad line \"%s%s\": %s (%u bad so far)",
               text.failed ? "" : text.data, len > kShown ? "..." : "", reason,
               s->bad);
      buf_free(&text);
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
