/* What the pbjson files share, private to them: protobuf-c's message
 * layout; the JSON text reader (pbjson_read.c); the string forms of
 * google.protobuf.Duration and Timestamp (pbjson_time.c). pbjson_print.c
 * and pbjson_parse.c build pbjson.h on these. Every quirk reproduced is
 * libprotobuf 3.21's; tests/unit/agent_pbjson_test.cc checks them. */
#ifndef SIPRESOLVER_AGENT_PBJSON_INTERNAL_H_
#define SIPRESOLVER_AGENT_PBJSON_INTERNAL_H_

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* The field at `offset` in a message. */
#define PBJSON_MEMBER(type, message, offset) \
  (*(type*)((char*)(message) + (offset)))

/* The bytes one element of a field takes in a message or in its array. */
static inline size_t pbjson_element_size(ProtobufCType type) {
  switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof(void*);
    case PROTOBUF_C_TYPE_BYTES:
      return sizeof(ProtobufCBinaryData);
    default: /* 32-bit numbers, enums, protobuf_c_boolean */
      return 4;
  }
}

/* Duration and Timestamp have a JSON form of their own; both keep
 * seconds (int64) and nanos (int32) as fields 1 and 2. */
static inline int pbjson_is_duration(const ProtobufCMessageDescriptor* d) {
  return strcmp(d->name, "google.protobuf.Duration") == 0;
}
static inline int pbjson_is_timestamp(const ProtobufCMessageDescriptor* d) {
  return strcmp(d->name, "google.protobuf.Timestamp") == 0;
}

/* --- pbjson_read.c: JSON text as libprotobuf's JsonStreamParser reads it */

#define PBJSON_MAX_DEPTH 32 /* objects and lists: bounds the recursion */

struct pbjson_reader {
  const char *p, *begin, *end;
  int depth;
  char path[128]; /* the field being read, for errors: "profile.ip_version" */
  char* error;
  size_t error_size;
  int failed;
};

/* A scalar JSON value; `string` is malloc'd and NUL-terminated. */
struct pbjson_value {
  enum {
    PBJSON_STRING,
    PBJSON_UINT,
    PBJSON_INT,
    PBJSON_DOUBLE,
    PBJSON_BOOL
  } kind;
  char* string;
  size_t len;
  uint64_t u; /* PBJSON_UINT, PBJSON_BOOL */
  int64_t i;  /* PBJSON_INT: a negative integer */
  double d;   /* PBJSON_DOUBLE */
};

/* Records the first error, "path: reason (at byte N)"; returns -1. */
int pbjson_fail(struct pbjson_reader* r, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
void pbjson_skip_space(struct pbjson_reader* r);
int pbjson_at(const struct pbjson_reader* r, const char* word);
/* The length of the longest well-formed UTF-8 prefix. */
size_t pbjson_utf8_prefix(const char* s, size_t len);
int pbjson_read_key(struct pbjson_reader* r, char** key, size_t* len);
int pbjson_read_scalar(struct pbjson_reader* r, struct pbjson_value* v);
/* Digits after an optional sign, spaces around (libprotobuf's safe_strto*). */
int pbjson_read_integer(const char* s, size_t len, int* negative,
                        uint64_t* magnitude);
/* strtod on a whole C string, trailing whitespace allowed, finite. */
int pbjson_read_double(const char* s, double* d);

/* --- pbjson_time.c: Duration ("1.5s") and Timestamp (RFC 3339) ---------- */

/* Append the quoted form; -1 (nothing appended) where libprotobuf refuses. */
int pbjson_print_duration(struct buf* out, int64_t seconds, int32_t nanos);
int pbjson_print_timestamp(struct buf* out, int64_t seconds, int32_t nanos);
/* Read the unquoted form; -1 where libprotobuf refuses. */
int pbjson_read_duration(const char* s, size_t len, int64_t* seconds,
                         int32_t* nanos);
int pbjson_read_timestamp(const char* s, int64_t* seconds, int32_t* nanos);

#endif /* SIPRESOLVER_AGENT_PBJSON_INTERNAL_H_ */
