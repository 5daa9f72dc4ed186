/* h2_internal: what h2_conn.c (the connection: socket, TLS, HTTP/2
 * session, keepalive) and grpc_call.c (the gRPC calls on it: headers,
 * messages, status) share. Private to the two. */
#ifndef SIPRESOLVER_AGENT_H2_INTERNAL_H_
#define SIPRESOLVER_AGENT_H2_INTERNAL_H_

#include <nghttp2/nghttp2.h>

#include "buf.h"
#include "grpc_wire.h"
#include "h2_conn.h"

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

/* Closes the connection with a reason; `format` has one %s. */
void h2_fail(struct h2_conn* c, const char* format, const char* detail);
/* Moves what nghttp2 wants sent to the socket. */
void h2_flush(struct h2_conn* c);

/* grpc_call.c: nghttp2's callbacks for the calls, and their ends. */
int h2_on_header(nghttp2_session* session, const nghttp2_frame* frame,
                 const uint8_t* name, size_t namelen, const uint8_t* value,
                 size_t valuelen, uint8_t flags, void* user_data);
int h2_on_data(nghttp2_session* session, uint8_t flags, int32_t stream_id,
               const uint8_t* data, size_t len, void* user_data);
int h2_on_stream_close(nghttp2_session* session, int32_t stream_id,
                       uint32_t error_code, void* user_data);
/* Runs on_end of the calls that ended, once nghttp2 is done with us. */
void h2_end_calls(struct h2_conn* c);
/* Ends every open call with the connection's error. */
void h2_end_all_calls(struct h2_conn* c);
/* Frees every call, ended or not, without on_end. */
void h2_free_calls(struct h2_conn* c);

#endif /* SIPRESOLVER_AGENT_H2_INTERNAL_H_ */
