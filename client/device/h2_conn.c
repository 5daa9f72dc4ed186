#include "h2_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2_internal.h"

void h2_fail(struct h2_conn* c, const char* format, const char* detail) {
  if (c->state == CLOSED) return;
  c->state = CLOSED;
  snprintf(c->error, sizeof c->error, format, detail);
}

static int on_frame(nghttp2_session* session, const nghttp2_frame* frame,
                    void* user_data) {
  struct h2_conn* c = user_data;
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    c->draining = 1;
    static const char kTooManyPings[] = "too_many_pings";
    const nghttp2_goaway* g = &frame->goaway;
    if (g->error_code == NGHTTP2_ENHANCE_YOUR_CALM &&
        g->opaque_data_len == sizeof kTooManyPings - 1 &&
        memcmp(g->opaque_data, kTooManyPings, g->opaque_data_len) == 0) {
      c->too_many_pings = 1;
    }
  }
  return 0;
}

/* --- I/O
 * ---------------------------------------------------------------------- */

static ssize_t raw_write(struct h2_conn* c, const uint8_t* data, size_t len) {
  if (c->tls) return tls_write(c->tls, data, len);
  const ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EINTR ? TLS_WANT_WRITE : TLS_ERROR;
}

static ssize_t raw_read(struct h2_conn* c, uint8_t* data, size_t len) {
  if (c->tls) return tls_read(c->tls, data, len);
  const ssize_t n = recv(c->fd, data, len, 0);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EINTR ? TLS_WANT_READ : TLS_ERROR;
}

/* Moves what nghttp2 wants sent into `out` and writes as much as the socket
 * takes. */
void h2_flush(struct h2_conn* c) {
  while (c->state == READY) {
    if (c->out.len == 0) {
      const uint8_t* data;
      const ssize_t n = nghttp2_session_mem_send(c->session, &data);
      if (n < 0) return h2_fail(c, "HTTP/2: %s", nghttp2_strerror((int)n));
      if (n == 0) return;
      buf_append(&c->out, data, (size_t)n);
      if (c->out.failed) return h2_fail(c, "%s", "out of memory");
    }
    const ssize_t n = raw_write(c, (const uint8_t*)c->out.data, c->out.len);
    c->tls_wants_write = 0;
    if (n == TLS_WANT_WRITE || n == TLS_WANT_READ) {
      c->tls_wants_write = n == TLS_WANT_WRITE;
      return;
    }
    if (n < 0) return h2_fail(c, "writing to the server: %s", strerror(errno));
    memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
    c->out.len -= (size_t)n;
  }
}

static void receive(struct h2_conn* c, int64_t now) {
  uint8_t data[8192];
  while (c->state == READY) {
    const ssize_t n = raw_read(c, data, sizeof data);
    if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) return;
    if (n == 0) return h2_fail(c, "%s", "the server closed the connection");
    if (n < 0) {
      return h2_fail(c, "reading from the server: %s",
                     c->tls ? "TLS error" : strerror(errno));
    }
    c->last_read_ms = now;
    c->ping_deadline_ms = 0; /* Any byte shows the connection lives. */
    const ssize_t used = nghttp2_session_mem_recv(c->session, data, (size_t)n);
    if (used < 0) return h2_fail(c, "HTTP/2: %s", nghttp2_strerror((int)used));
  }
}

static int start_session(struct h2_conn* c) {
  nghttp2_session_callbacks* callbacks;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return -1;
  nghttp2_session_callbacks_set_on_header_callback(callbacks, h2_on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            h2_on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         h2_on_stream_close);
  nghttp2_option* option;
  int rc = nghttp2_option_new(&option);
  if (rc == 0) {
    /* A server's flood of SETTINGS or PINGs must not grow our queue. */
    nghttp2_option_set_max_outbound_ack(option, 100);
    nghttp2_option_set_max_settings(option, 32);
    rc = nghttp2_session_client_new2(&c->session, callbacks, c, option);
    nghttp2_option_del(option);
  }
  nghttp2_session_callbacks_del(callbacks);
  if (rc != 0) return -1;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kMaxHeaderBytes},
  };
  return nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings,
                                 sizeof settings / sizeof settings[0]);
}

/* The connection is up (and TLS done): HTTP/2 may start. */
static void become_ready(struct h2_conn* c, int64_t now) {
  c->state = READY;
  c->last_read_ms = now;
  h2_flush(c);
}

static void handshake(struct h2_conn* c, int64_t now) {
  char error[200];
  const int rc = tls_handshake(c->tls, error, sizeof error);
  c->tls_wants_write = rc == TLS_WANT_WRITE;
  if (rc == TLS_ERROR) return h2_fail(c, "%s", error);
  if (rc == 0) become_ready(c, now);
}

static void connected(struct h2_conn* c, int64_t now) {
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return h2_fail(c, "connect: %s", strerror(error));
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!c->options.tls) return become_ready(c, now);
  char reason[200];
  c->tls = tls_session_new(c->options.tls, c->fd, c->options.server_name,
                           reason, sizeof reason);
  if (!c->tls) return h2_fail(c, "%s", reason);
  c->state = HANDSHAKE;
  handshake(c, now);
}

/* --- the interface -------------------------------------------------------- */

struct h2_conn* h2_conn_open(const struct sockaddr* address, socklen_t length,
                             const struct h2_options* options, int64_t now_ms,
                             char* error, size_t error_size) {
  struct h2_conn* c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(error, error_size, "out of memory");
    return NULL;
  }
  c->options = *options;
  c->opened_ms = now_ms;
  c->fd =
      socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0 || start_session(c) != 0) {
    snprintf(error, error_size, "socket: %s",
             c->fd < 0 ? strerror(errno) : "out of memory");
    h2_conn_free(c);
    return NULL;
  }
  if (connect(c->fd, address, length) != 0 && errno != EINPROGRESS) {
    snprintf(error, error_size, "connect: %s", strerror(errno));
    h2_conn_free(c);
    return NULL;
  }
  c->state = CONNECTING;
  return c;
}

int h2_conn_fd(const struct h2_conn* c) { return c->fd; }

short h2_conn_events(const struct h2_conn* c) {
  switch (c->state) {
    case CONNECTING:
      return POLLOUT;
    case HANDSHAKE:
      return c->tls_wants_write ? POLLOUT : POLLIN;
    case READY:
      return (short)(POLLIN | (c->out.len > 0 || c->tls_wants_write ||
                                       nghttp2_session_want_write(c->session)
                                   ? POLLOUT
                                   : 0));
    default:
      return 0;
  }
}

int64_t h2_conn_deadline(const struct h2_conn* c) {
  if (c->state == CONNECTING || c->state == HANDSHAKE)
    return c->opened_ms + c->options.connect_timeout_ms;
  if (c->state != READY) return INT64_MAX;
  if (c->tls && tls_pending(c->tls) > 0) return 0; /* Data poll cannot see. */
  if (c->ping_deadline_ms) return c->ping_deadline_ms;
  if (c->options.keepalive_ms > 0 && c->calls)
    return c->last_read_ms + c->options.keepalive_ms;
  return INT64_MAX;
}

int h2_conn_process(struct h2_conn* c, short revents, int64_t now) {
  switch (c->state) {
    case CONNECTING:
      if (revents) connected(c, now);
      break;
    case HANDSHAKE:
      if (revents) handshake(c, now);
      break;
    default:
      break;
  }
  if (c->state == READY) {
    if (revents & (POLLIN | POLLERR | POLLHUP) ||
        (c->tls && tls_pending(c->tls) > 0))
      receive(c, now);
    if (c->state == READY && c->ping_deadline_ms && now >= c->ping_deadline_ms)
      h2_fail(c, "%s", "keepalive ping not answered: the connection is dead");
    if (c->state == READY && !c->ping_deadline_ms &&
        c->options.keepalive_ms > 0 && c->calls &&
        now >= c->last_read_ms + c->options.keepalive_ms) {
      nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
      c->ping_deadline_ms = now + c->options.keepalive_timeout_ms;
    }
    h2_flush(c);
    if (c->state == READY && !nghttp2_session_want_read(c->session) &&
        !nghttp2_session_want_write(c->session) && c->out.len == 0) {
      h2_fail(c, "%s",
              c->draining ? "the server ended the connection (GOAWAY)"
                          : "the connection is over");
    }
  } else if (c->state != CLOSED &&
             now >= c->opened_ms + c->options.connect_timeout_ms) {
    h2_fail(c, "%s",
            c->state == CONNECTING ? "connect timed out"
                                   : "TLS handshake timed out");
  }
  h2_end_calls(c);
  if (c->state != CLOSED) return 0;
  h2_end_all_calls(c); /* Every call still open ends with the connection. */
  return -1;
}

int h2_conn_ready(const struct h2_conn* c) { return c->state == READY; }
int h2_conn_draining(const struct h2_conn* c) { return c->draining; }
int h2_conn_too_many_pings(const struct h2_conn* c) {
  return c->too_many_pings;
}
const char* h2_conn_error(const struct h2_conn* c) { return c->error; }

void h2_conn_free(struct h2_conn* c) {
  if (!c) return;
  h2_free_calls(c);
  nghttp2_session_del(c->session);
  tls_session_free(c->tls);
  if (c->fd >= 0) close(c->fd);
  buf_free(&c->out);
  free(c);
}
