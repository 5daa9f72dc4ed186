#include "grpc_wire.h"

#include <stdlib.h>
#include <string.h>

static const char* const kCodeNames[] = {"OK",
                                         "CANCELLED",
                                         "UNKNOWN",
                                         "INVALID_ARGUMENT",
                                         "DEADLINE_EXCEEDED",
                                         "NOT_FOUND",
                                         "ALREADY_EXISTS",
                                         "PERMISSION_DENIED",
                                         "RESOURCE_EXHAUSTED",
                                         "FAILED_PRECONDITION",
                                         "ABORTED",
                                         "OUT_OF_RANGE",
                                         "UNIMPLEMENTED",
                                         "INTERNAL",
                                         "UNAVAILABLE",
                                         "DATA_LOSS",
                                         "UNAUTHENTICATED"};

const char* grpc_code_name(int code) {
  if (code < 0 || code > GRPC_UNAUTHENTICATED) return "UNKNOWN";
  return kCodeNames[code];
}

int grpc_code_from_http(int http_status) {
  switch (http_status) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return GRPC_UNAUTHENTICATED;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 404:
      return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return GRPC_UNKNOWN;
  }
}

int grpc_parse_status(const uint8_t* value, size_t len) {
  if (len == 0 || len > 9) return -1;
  int code = 0;
  for (size_t i = 0; i < len; ++i) {
    if (value[i] < '0' || value[i] > '9') return -1;
    code = code * 10 + (value[i] - '0');
  }
  return code;
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void grpc_percent_decode(const uint8_t* in, size_t len, char* out,
                         size_t out_size) {
  if (out_size == 0) return;
  size_t n = 0;
  for (size_t i = 0; i < len && n + 1 < out_size; ++i) {
    uint8_t c = in[i];
    if (c == '%' && i + 2 < len) {
      const int high = hex_value(in[i + 1]), low = hex_value(in[i + 2]);
      if (high >= 0 && low >= 0) {
        c = (uint8_t)(high * 16 + low);
        i += 2;
      }
    }
    out[n++] = (char)((c < 0x20 || c == 0x7f) ? '?' : c);
  }
  out[n] = '\0';
}

void grpc_frame_prefix(uint8_t out[5], uint32_t len) {
  out[0] = 0; /* Not compressed. */
  out[1] = (uint8_t)(len >> 24);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 8);
  out[4] = (uint8_t)len;
}

int grpc_deframer_feed(struct grpc_deframer* d, const uint8_t* data, size_t len,
                       int (*on_message)(void* arg, const uint8_t* message,
                                         size_t len),
                       void* arg) {
  while (len > 0) {
    if (d->prefix_len < 5) {
      const size_t take = 5 - d->prefix_len < len ? 5 - d->prefix_len : len;
      memcpy(d->prefix + d->prefix_len, data, take);
      d->prefix_len += take;
      data += take;
      len -= take;
      if (d->prefix_len < 5) return GRPC_DEFRAME_OK;
      if (d->prefix[0] != 0) return GRPC_DEFRAME_COMPRESSED;
      d->want = (size_t)d->prefix[1] << 24 | (size_t)d->prefix[2] << 16 |
                (size_t)d->prefix[3] << 8 | d->prefix[4];
      if (d->want > d->max_message) return GRPC_DEFRAME_TOO_LARGE;
      d->got = 0;
      /* One byte more than needed, so an empty message has a buffer too. */
      d->message = malloc(d->want + 1);
      if (!d->message) return GRPC_DEFRAME_NO_MEMORY;
    }
    const size_t take = d->want - d->got < len ? d->want - d->got : len;
    memcpy(d->message + d->got, data, take);
    d->got += take;
    data += take;
    len -= take;
    if (d->got < d->want) return GRPC_DEFRAME_OK;
    uint8_t* message = d->message;
    const size_t message_len = d->want;
    d->message = NULL;
    d->prefix_len = 0;
    const int stop = on_message(arg, message, message_len);
    free(message);
    if (stop) return GRPC_DEFRAME_STOPPED;
  }
  return GRPC_DEFRAME_OK;
}

int grpc_deframer_partial(const struct grpc_deframer* d) {
  return d->prefix_len > 0;
}

void grpc_deframer_reset(struct grpc_deframer* d) {
  free(d->message);
  d->message = NULL;
  d->prefix_len = 0;
  d->want = d->got = 0;
}
