/* h2_conn: one HTTP/2 connection to the service and the gRPC calls on it,
 * for the agent's poll() loop: non-blocking connect, TLS (tls.h) or
 * plaintext, HTTP/2 by libnghttp2, gRPC's framing and status (grpc_wire.h).
 *
 * It handles what a real server and network do: trailers-only responses,
 * grpc-status/grpc-message, RST_STREAM, GOAWAY (streams the server never
 * processed end UNAVAILABLE and may be retried; a GOAWAY "too_many_pings"
 * is reported so the caller can slow its pings, gRPC's A8), keepalive pings
 * after `keepalive_ms` without a byte read and a dead connection when one
 * goes unanswered for `keepalive_timeout_ms`, a connect (and TLS) timeout,
 * and limits on what one response may hold (message size, header bytes).
 *
 * The caller polls h2_conn_fd() for h2_conn_events(), wakes at
 * h2_conn_deadline() at the latest, and calls h2_conn_process() after
 * either. Calls end through their handler's on_end, always exactly once
 * unless the caller cancels them or frees the connection. One thread. */
#ifndef SIPRESOLVER_AGENT_H2_CONN_H_
#define SIPRESOLVER_AGENT_H2_CONN_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tls.h"

struct grpc_result {
  int code;          /* enum grpc_code. */
  char message[256]; /* grpc-message, decoded; or what went wrong. */
  /* The server asked for an immediate reconnect (a replica shutting down):
   * UNAVAILABLE with "sipresolver-reconnect: now", or from older servers
   * UNAVAILABLE whose message says "reconnect". */
  int reconnect_now;
};

struct h2_call_handler {
  /* A response message. Returns 0 to go on; anything else cancels the call
   * (on_end then runs with CANCELLED). */
  int (*on_message)(void* arg, const uint8_t* message, size_t len);
  /* The call is over; its handle is gone when this returns. */
  void (*on_end)(void* arg, const struct grpc_result* result);
};

struct h2_options {
  const struct tls_files* tls; /* NULL: plaintext (h2c). */
  const char* server_name;     /* TLS: the name the certificate must carry. */
  const char* authority;       /* :authority, e.g. "host:50051". */
  size_t max_message;          /* Largest response message accepted. */
  int64_t connect_timeout_ms;  /* TCP connect and TLS handshake together. */
  int64_t keepalive_ms;        /* Ping after this long without reading. */
  int64_t keepalive_timeout_ms;
};

struct h2_conn;
struct h2_call;

/* Starts connecting to `address`; NULL with a reason in `error`. */
struct h2_conn* h2_conn_open(const struct sockaddr* address, socklen_t length,
                             const struct h2_options* options, int64_t now_ms,
                             char* error, size_t error_size);
int h2_conn_fd(const struct h2_conn* c);
short h2_conn_events(const struct h2_conn* c);
/* When h2_conn_process must run even without I/O; INT64_MAX for never. */
int64_t h2_conn_deadline(const struct h2_conn* c);
/* After poll() (revents, maybe 0) or the deadline. 0 while the connection
 * lives; -1 when it is over: every open call has ended (UNAVAILABLE) and
 * h2_conn_error() says why. */
int h2_conn_process(struct h2_conn* c, short revents, int64_t now_ms);
/* Connected (and TLS done): the first bytes have been exchanged. */
int h2_conn_ready(const struct h2_conn* c);
/* The server sent GOAWAY: no new calls on this connection. */
int h2_conn_draining(const struct h2_conn* c);
/* ... with ENHANCE_YOUR_CALM "too_many_pings". */
int h2_conn_too_many_pings(const struct h2_conn* c);
const char* h2_conn_error(const struct h2_conn* c);

/* Starts a call of `path` ("/package.Service/Method") with one request
 * message (framed here) and the end of the request stream. NULL when the
 * connection is draining or out of memory. */
struct h2_call* h2_call_start(struct h2_conn* c, const char* path,
                              const uint8_t* request, size_t len,
                              const struct h2_call_handler* handler, void* arg);
/* Resets the call (RST_STREAM CANCEL); its on_end never runs. */
void h2_call_cancel(struct h2_conn* c, struct h2_call* call);
/* Closes the connection; open calls end without on_end. */
void h2_conn_free(struct h2_conn* c);

#endif /* SIPRESOLVER_AGENT_H2_CONN_H_ */
