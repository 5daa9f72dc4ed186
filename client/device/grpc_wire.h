/* grpc_wire: the parts of gRPC's HTTP/2 protocol (grpc/grpc
 * doc/PROTOCOL-HTTP2.md) that are plain bytes: the length-prefixed message
 * framing, the status codes and their names, the HTTP status mapping for
 * responses that are not gRPC, and grpc-message's percent-encoding. Pure:
 * no I/O; what the agent reads from the network goes through here. */
#ifndef SIPRESOLVER_AGENT_GRPC_WIRE_H_
#define SIPRESOLVER_AGENT_GRPC_WIRE_H_

#include <stddef.h>
#include <stdint.h>

enum grpc_code {
  GRPC_OK = 0,
  GRPC_CANCELLED = 1,
  GRPC_UNKNOWN = 2,
  GRPC_INVALID_ARGUMENT = 3,
  GRPC_DEADLINE_EXCEEDED = 4,
  GRPC_NOT_FOUND = 5,
  GRPC_ALREADY_EXISTS = 6,
  GRPC_PERMISSION_DENIED = 7,
  GRPC_RESOURCE_EXHAUSTED = 8,
  GRPC_FAILED_PRECONDITION = 9,
  GRPC_ABORTED = 10,
  GRPC_OUT_OF_RANGE = 11,
  GRPC_UNIMPLEMENTED = 12,
  GRPC_INTERNAL = 13,
  GRPC_UNAVAILABLE = 14,
  GRPC_DATA_LOSS = 15,
  GRPC_UNAUTHENTICATED = 16,
};

/* "UNAVAILABLE", ...; "UNKNOWN" for codes outside 0-16. */
const char* grpc_code_name(int code);

/* The code a response with HTTP status `http_status` and no grpc-status
 * means (a proxy's error page, say): 400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE,
 * anything else UNKNOWN. */
int grpc_code_from_http(int http_status);

/* grpc-status's value: a decimal code; -1 when it is not one. */
int grpc_parse_status(const uint8_t* value, size_t len);

/* Decodes grpc-message's percent-encoding into `out` (at most out_size - 1
 * bytes and a NUL; the rest is cut). A '%' not followed by two hex digits
 * stays as it is, as the spec asks. Control characters become '?', so a
 * hostile server cannot write escape sequences to a terminal or split a
 * log line. */
void grpc_percent_decode(const uint8_t* in, size_t len, char* out,
                         size_t out_size);

/* The 5-byte prefix of a message of `len` bytes, uncompressed. */
void grpc_frame_prefix(uint8_t out[5], uint32_t len);

/* Reassembles length-prefixed messages from DATA frames, whose boundaries
 * have nothing to do with the messages'. Messages over `max_message` bytes
 * and compressed ones (the agent asks for none) are refused before any of
 * their bytes are kept. */
struct grpc_deframer {
  size_t max_message;
  uint8_t prefix[5];
  size_t prefix_len;
  uint8_t* message; /* Being filled: `got` of `want` bytes. */
  size_t want;
  size_t got;
};

enum grpc_deframe_result {
  GRPC_DEFRAME_OK = 0,
  GRPC_DEFRAME_TOO_LARGE = -1,
  GRPC_DEFRAME_COMPRESSED = -2,
  GRPC_DEFRAME_NO_MEMORY = -3,
  GRPC_DEFRAME_STOPPED = -4, /* on_message asked to stop. */
};

/* Hands each complete message to `on_message` (which returns 0 to go on).
 * After an error the deframer must be reset before it is fed again. */
int grpc_deframer_feed(struct grpc_deframer* d, const uint8_t* data, size_t len,
                       int (*on_message)(void* arg, const uint8_t* message,
                                         size_t len),
                       void* arg);
/* In the middle of a message (the stream ended early: DATA_LOSS). */
int grpc_deframer_partial(const struct grpc_deframer* d);
/* Frees what is held; ready for a new stream. */
void grpc_deframer_reset(struct grpc_deframer* d);

#endif /* SIPRESOLVER_AGENT_GRPC_WIRE_H_ */
