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

#include "buf.h"
#include "grpc_wire.h"

/* What one response may hold beyond its messages: headers and trailers. */
enum { kMaxHeaderBytes = 16 * 1024 };

enum state { CONNECTING, HANDSHAKE, READY, CLOSED };

struct h2_call {
  struct h2_call* next; /* Open calls, or ended ones awaiting on_end. */
  int32_t stream_id;
  const struct h2_call_handler* handler;
  void* arg;
  struct buf request; /* Framed; sent from `sent` on. */
  size_t sent;
  struct grpc_deframer deframer;
  size_t header_bytes;
  int http_status;
  int grpc_status;      /* -1 until the trailers say. */
  int reconnect_header; /* -1 absent, 1 "now", 0 anything else. */
  struct grpc_result result;
  int failed; /* result holds a failure of our own (limits, cancel). */
};

struct h2_conn {
  enum state state;
  int fd;
  struct h2_options options;
  struct tls_session* tls;
  nghttp2_session* session;
  struct buf out; /* Bytes nghttp2 produced that the socket has not taken. */
  struct h2_call* calls;
  struct h2_call* ended;
  int64_t opened_ms;
  int64_t last_read_ms;
  int64_t ping_deadline_ms; /* 0: no ping outstanding. */
  int tls_wants_write;
  int draining;
  int too_many_pings;
  char error[256];
};

static void fail(struct h2_conn* c, const char* format, const char* detail) {
  if (c->state == CLOSED) return;
  c->state = CLOSED;
  snprintf(c->error, sizeof c->error, format, detail);
}

static struct h2_call* call_of(struct h2_conn* c, int32_t stream_id) {
  return nghttp2_session_get_stream_user_data(c->session, stream_id);
}

static void unlink_call(struct h2_call** list, struct h2_call* call) {
  for (; *list; list = &(*list)->next) {
    if (*list == call) {
      *list = call->next;
      return;
    }
  }
}

static void free_call(struct h2_call* call) {
  buf_free(&call->request);
  grpc_deframer_reset(&call->deframer);
  free(call);
}

/* --- nghttp2 callbacks ------------------------------------------------------
 */

static ssize_t read_request(nghttp2_session* session, int32_t stream_id,
                            uint8_t* out, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user_data) {
  struct h2_call* call = source->ptr;
  const size_t left = call->request.len - call->sent;
  const size_t n = left < length ? left : length;
  memcpy(out, call->request.data + call->sent, n);
  call->sent += n;
  if (call->sent == call->request.len) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                     const uint8_t* name, size_t namelen, const uint8_t* value,
                     size_t valuelen, uint8_t flags, void* user_data) {
  struct h2_conn* c = user_data;
  struct h2_call* call = call_of(c, frame->hd.stream_id);
  if (!call) return 0;
  call->header_bytes += namelen + valuelen + 32; /* RFC 7541's entry size. */
  if (call->header_bytes > kMaxHeaderBytes) {
    call->failed = 1;
    call->result.code = GRPC_RESOURCE_EXHAUSTED;
    snprintf(call->result.message, sizeof call->result.message,
             "the response's headers are over %d bytes", kMaxHeaderBytes);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* Resets the stream. */
  }
#define IS(literal) \
  (namelen == sizeof(literal) - 1 && memcmp(name, literal, namelen) == 0)
  if (IS(":status")) {
    call->http_status = 0;
    for (size_t i = 0; i < valuelen && i < 3; ++i)
      call->http_status = call->http_status * 10 + (value[i] - '0');
  } else if (IS("grpc-status")) {
    call->grpc_status = grpc_parse_status(value, valuelen);
    if (call->grpc_status < 0) call->grpc_status = GRPC_UNKNOWN;
  } else if (IS("grpc-message")) {
    grpc_percent_decode(value, valuelen, call->result.message,
                        sizeof call->result.message);
  } else if (IS("sipresolver-reconnect")) {
    call->reconnect_header = valuelen == 3 && memcmp(value, "now", 3) == 0;
  }
#undef IS
  return 0;
}

static int deliver_message(void* arg, const uint8_t* message, size_t len) {
  struct h2_call* call = arg;
  return call->handler->on_message(call->arg, message, len);
}

static int on_data(nghttp2_session* session, uint8_t flags, int32_t stream_id,
                   const uint8_t* data, size_t len, void* user_data) {
  struct h2_conn* c = user_data;
  struct h2_call* call = call_of(c, stream_id);
  if (!call || call->failed) return 0;
  const int rc =
      grpc_deframer_feed(&call->deframer, data, len, deliver_message, call);
  if (rc == GRPC_DEFRAME_OK) return 0;
  call->failed = 1;
  switch (rc) {
    case GRPC_DEFRAME_TOO_LARGE:
      call->result.code = GRPC_RESOURCE_EXHAUSTED;
      snprintf(call->result.message, sizeof call->result.message,
               "a response message is over the limit of %zu bytes",
               call->deframer.max_message);
      break;
    case GRPC_DEFRAME_COMPRESSED:
      call->result.code = GRPC_INTERNAL;
      snprintf(call->result.message, sizeof call->result.message,
               "a compressed message, though the agent asked for none");
      break;
    case GRPC_DEFRAME_STOPPED:
      call->result.code = GRPC_CANCELLED;
      snprintf(call->result.message, sizeof call->result.message,
               "cancelled by the agent");
      break;
    default:
      call->result.code = GRPC_RESOURCE_EXHAUSTED;
      snprintf(call->result.message, sizeof call->result.message,
               "out of memory");
  }
  nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id,
                            NGHTTP2_CANCEL);
  return 0;
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

/* The call's outcome, from the trailers, a reset, or the HTTP status. */
static void settle(struct h2_call* call, uint32_t error_code) {
  struct grpc_result* r = &call->result;
  if (call->failed) {
    /* Ours: a limit, or the handler's cancel. */
  } else if (call->grpc_status >= 0) {
    r->code = call->grpc_status;
    if (r->code == GRPC_OK && grpc_deframer_partial(&call->deframer)) {
      r->code = GRPC_INTERNAL;
      snprintf(r->message, sizeof r->message,
               "the stream ended inside a message");
    }
  } else if (error_code != NGHTTP2_NO_ERROR) {
    r->code =
        error_code == NGHTTP2_REFUSED_STREAM        ? GRPC_UNAVAILABLE
        : error_code == NGHTTP2_CANCEL              ? GRPC_CANCELLED
        : error_code == NGHTTP2_ENHANCE_YOUR_CALM   ? GRPC_RESOURCE_EXHAUSTED
        : error_code == NGHTTP2_INADEQUATE_SECURITY ? GRPC_PERMISSION_DENIED
                                                    : GRPC_INTERNAL;
    snprintf(r->message, sizeof r->message,
             "the server reset the stream (HTTP/2 error %u)", error_code);
  } else if (call->http_status != 200) {
    r->code = grpc_code_from_http(call->http_status);
    snprintf(r->message, sizeof r->message, "HTTP status %d and no grpc-status",
             call->http_status);
  } else {
    r->code = GRPC_UNKNOWN;
    snprintf(r->message, sizeof r->message,
             "the stream ended without a grpc-status");
  }
  r->reconnect_now =
      r->code == GRPC_UNAVAILABLE &&
      (call->reconnect_header == 1 ||
       (call->reconnect_header == -1 && strstr(r->message, "reconnect")));
}

static int on_stream_close(nghttp2_session* session, int32_t stream_id,
                           uint32_t error_code, void* user_data) {
  struct h2_conn* c = user_data;
  struct h2_call* call = call_of(c, stream_id);
  if (!call) return 0;
  nghttp2_session_set_stream_user_data(session, stream_id, NULL);
  settle(call, error_code);
  unlink_call(&c->calls, call);
  call->next = c->ended; /* on_end runs once nghttp2 is done with us. */
  c->ended = call;
  return 0;
}

/* --- I/O
 * ---------------------------------------------------------------------- */

static void end_calls(struct h2_conn* c) {
  while (c->ended) {
    struct h2_call* call = c->ended;
    c->ended = call->next;
    call->handler->on_end(call->arg, &call->result);
    free_call(call);
  }
}

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
static void flush(struct h2_conn* c) {
  while (c->state == READY) {
    if (c->out.len == 0) {
      const uint8_t* data;
      const ssize_t n = nghttp2_session_mem_send(c->session, &data);
      if (n < 0) return fail(c, "HTTP/2: %s", nghttp2_strerror((int)n));
      if (n == 0) return;
      buf_append(&c->out, data, (size_t)n);
      if (c->out.failed) return fail(c, "%s", "out of memory");
    }
    const ssize_t n = raw_write(c, (const uint8_t*)c->out.data, c->out.len);
    c->tls_wants_write = 0;
    if (n == TLS_WANT_WRITE || n == TLS_WANT_READ) {
      c->tls_wants_write = n == TLS_WANT_WRITE;
      return;
    }
    if (n < 0) return fail(c, "writing to the server: %s", strerror(errno));
    memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
    c->out.len -= (size_t)n;
  }
}

static void receive(struct h2_conn* c, int64_t now) {
  uint8_t data[8192];
  while (c->state == READY) {
    const ssize_t n = raw_read(c, data, sizeof data);
    if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) return;
    if (n == 0) return fail(c, "%s", "the server closed the connection");
    if (n < 0) {
      return fail(c, "reading from the server: %s",
                  c->tls ? "TLS error" : strerror(errno));
    }
    c->last_read_ms = now;
    c->ping_deadline_ms = 0; /* Any byte shows the connection lives. */
    const ssize_t used = nghttp2_session_mem_recv(c->session, data, (size_t)n);
    if (used < 0) return fail(c, "HTTP/2: %s", nghttp2_strerror((int)used));
  }
}

static int start_session(struct h2_conn* c) {
  nghttp2_session_callbacks* callbacks;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return -1;
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         on_stream_close);
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
  flush(c);
}

static void handshake(struct h2_conn* c, int64_t now) {
  char error[200];
  const int rc = tls_handshake(c->tls, error, sizeof error);
  c->tls_wants_write = rc == TLS_WANT_WRITE;
  if (rc == TLS_ERROR) return fail(c, "%s", error);
  if (rc == 0) become_ready(c, now);
}

static void connected(struct h2_conn* c, int64_t now) {
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return fail(c, "connect: %s", strerror(error));
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!c->options.tls) return become_ready(c, now);
  char reason[200];
  c->tls = tls_session_new(c->options.tls, c->fd, c->options.server_name,
                           reason, sizeof reason);
  if (!c->tls) return fail(c, "%s", reason);
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
      fail(c, "%s", "keepalive ping not answered: the connection is dead");
    if (c->state == READY && !c->ping_deadline_ms &&
        c->options.keepalive_ms > 0 && c->calls &&
        now >= c->last_read_ms + c->options.keepalive_ms) {
      nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
      c->ping_deadline_ms = now + c->options.keepalive_timeout_ms;
    }
    flush(c);
    if (c->state == READY && !nghttp2_session_want_read(c->session) &&
        !nghttp2_session_want_write(c->session) && c->out.len == 0) {
      fail(c, "%s",
           c->draining ? "the server ended the connection (GOAWAY)"
                       : "the connection is over");
    }
  } else if (c->state != CLOSED &&
             now >= c->opened_ms + c->options.connect_timeout_ms) {
    fail(c, "%s",
         c->state == CONNECTING ? "connect timed out"
                                : "TLS handshake timed out");
  }
  end_calls(c);
  if (c->state != CLOSED) return 0;
  /* Every call still open ends with the connection. */
  while (c->calls) {
    struct h2_call* call = c->calls;
    c->calls = call->next;
    if (!call->failed) {
      call->result.code = GRPC_UNAVAILABLE;
      snprintf(call->result.message, sizeof call->result.message, "%s",
               c->error);
    }
    call->next = c->ended;
    c->ended = call;
  }
  end_calls(c);
  return -1;
}

int h2_conn_ready(const struct h2_conn* c) { return c->state == READY; }
int h2_conn_draining(const struct h2_conn* c) { return c->draining; }
int h2_conn_too_many_pings(const struct h2_conn* c) {
  return c->too_many_pings;
}
const char* h2_conn_error(const struct h2_conn* c) { return c->error; }

struct h2_call* h2_call_start(struct h2_conn* c, const char* path,
                              const uint8_t* request, size_t len,
                              const struct h2_call_handler* handler,
                              void* arg) {
  if (c->draining || c->state == CLOSED || len > UINT32_MAX) return NULL;
  struct h2_call* call = calloc(1, sizeof *call);
  if (!call) return NULL;
  call->handler = handler;
  call->arg = arg;
  call->grpc_status = -1;
  call->reconnect_header = -1;
  call->deframer.max_message = c->options.max_message;
  uint8_t prefix[5];
  grpc_frame_prefix(prefix, (uint32_t)len);
  buf_append(&call->request, prefix, sizeof prefix);
  buf_append(&call->request, request, len);
  const char* scheme = c->options.tls ? "https" : "http";
#define HEADER(name, value)                                               \
  {                                                                       \
    (uint8_t*)(name), (uint8_t*)(value), sizeof(name) - 1, strlen(value), \
        NGHTTP2_NV_FLAG_NONE                                              \
  }
  const nghttp2_nv headers[] = {
      HEADER(":method", "POST"),
      HEADER(":scheme", scheme),
      HEADER(":path", path),
      HEADER(":authority", c->options.authority),
      HEADER("te", "trailers"),
      HEADER("content-type", "application/grpc"),
      HEADER("user-agent", "sipresolver-agent/1"),
  };
#undef HEADER
  nghttp2_data_provider body = {.source = {.ptr = call},
                                .read_callback = read_request};
  call->stream_id = call->request.failed
                        ? -1
                        : nghttp2_submit_request(
                              c->session, NULL, headers,
                              sizeof headers / sizeof headers[0], &body, call);
  if (call->stream_id < 0) {
    free_call(call);
    return NULL;
  }
  call->next = c->calls;
  c->calls = call;
  flush(c);
  return call;
}

void h2_call_cancel(struct h2_conn* c, struct h2_call* call) {
  unlink_call(&c->calls, call);
  unlink_call(&c->ended, call); /* Ended, its on_end not yet run. */
  if (c->session) {
    nghttp2_session_set_stream_user_data(c->session, call->stream_id, NULL);
    nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, call->stream_id,
                              NGHTTP2_CANCEL);
    flush(c);
  }
  free_call(call);
}

void h2_conn_free(struct h2_conn* c) {
  if (!c) return;
  for (struct h2_call** list = &c->calls; *list;) {
    struct h2_call* call = *list;
    *list = call->next;
    free_call(call);
  }
  for (struct h2_call** list = &c->ended; *list;) {
    struct h2_call* call = *list;
    *list = call->next;
    free_call(call);
  }
  nghttp2_session_del(c->session);
  tls_session_free(c->tls);
  if (c->fd >= 0) close(c->fd);
  buf_free(&c->out);
  free(c);
}
