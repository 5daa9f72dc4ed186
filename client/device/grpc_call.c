/* The gRPC calls on an HTTP/2 connection (grpc/grpc PROTOCOL-HTTP2.md):
 * the request's headers and framed message, the response's headers,
 * length-prefixed messages and trailers (or trailers only), and the call's
 * outcome from grpc-status, a reset or the HTTP status. nghttp2 calls these
 * back; a call's end is handed on only once nghttp2 is done with us. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_internal.h"

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

int h2_on_header(nghttp2_session* session, const nghttp2_frame* frame,
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

int h2_on_data(nghttp2_session* session, uint8_t flags, int32_t stream_id,
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

int h2_on_stream_close(nghttp2_session* session, int32_t stream_id,
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

void h2_end_calls(struct h2_conn* c) {
  while (c->ended) {
    struct h2_call* call = c->ended;
    c->ended = call->next;
    call->handler->on_end(call->arg, &call->result);
    free_call(call);
  }
}

void h2_end_all_calls(struct h2_conn* c) {
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
  h2_end_calls(c);
}

void h2_free_calls(struct h2_conn* c) {
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
}

/* --- the interface --- */

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
  h2_flush(c);
  return call;
}

void h2_call_cancel(struct h2_conn* c, struct h2_call* call) {
  unlink_call(&c->calls, call);
  unlink_call(&c->ended, call); /* Ended, its on_end not yet run. */
  if (c->session) {
    nghttp2_session_set_stream_user_data(c->session, call->stream_id, NULL);
    nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, call->stream_id,
                              NGHTTP2_CANCEL);
    h2_flush(c);
  }
  free_call(call);
}
