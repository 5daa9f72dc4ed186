/* pbjson_parse: JSON to a protobuf-c message, taking and refusing what
 * libprotobuf 3.21's JsonStringToMessage (default options) does, so that a
 * --profile means the same to both agents. The text is read as its reader
 * reads it (pbjson_read.c); the values become fields as its converter
 * makes them: field names as in the .proto or in lowerCamelCase; one value
 * for a repeated field is a list of one, a list inside a list adds to the
 * same field; null is absent anywhere; numbers may come in strings, bools
 * as "yes" or "1", enums by name or number; a field given twice merges
 * (the later scalar wins, messages merge, lists append).
 *
 * The message is built in place the way protobuf_c_message_unpack builds
 * one (malloc'd strings, arrays and sub-messages, set up by the generated
 * init functions) and is whole after every step, so on any error
 * protobuf_c_message_free_unpacked frees it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "pbjson.h"
#include "pbjson_internal.h"

/* The integer in `v` if it lies in [min, max]: a JSON number (a double
 * only when whole) or a string of digits. */
static int to_integer(const struct pbjson_value* v, int64_t min, uint64_t max,
                      int64_t* as_signed, uint64_t* as_unsigned) {
  int negative = 0;
  uint64_t magnitude = 0;
  switch (v->kind) {
    case PBJSON_UINT:
      magnitude = v->u;
      break;
    case PBJSON_INT:
      negative = 1, magnitude = 0 - (uint64_t)v->i;
      break;
    case PBJSON_DOUBLE: /* only a whole one (and no libm for that) */
      if (!(v->d >= -0x1p63 && v->d < 0x1p64)) return -1;
      negative = v->d < 0;
      magnitude = (uint64_t)(negative ? -v->d : v->d);
      if ((double)magnitude != (negative ? -v->d : v->d)) return -1;
      break;
    case PBJSON_STRING: /* no spaces around; even "-0" is no unsigned number */
      if (!v->len || v->string[0] == ' ' || v->string[v->len - 1] == ' ' ||
          pbjson_read_integer(v->string, v->len, &negative, &magnitude) != 0 ||
          (negative && min == 0))
        return -1;
      break;
    default:
      return -1;
  }
  negative = negative && magnitude;
  if (negative ? min == 0 || magnitude - 1 > (uint64_t)(-(min + 1))
               : magnitude > max)
    return -1;
  *as_unsigned = magnitude;
  *as_signed = negative ? -(int64_t)(magnitude - 1) - 1 : (int64_t)magnitude;
  return 0;
}

static int to_double(const struct pbjson_value* v, double* d) {
  if (v->kind == PBJSON_DOUBLE || v->kind == PBJSON_UINT ||
      v->kind == PBJSON_INT) {
    *d = v->kind == PBJSON_DOUBLE ? v->d
         : v->kind == PBJSON_UINT ? (double)v->u
                                  : (double)v->i;
    return 0;
  }
  if (v->kind != PBJSON_STRING) return -1;
  const int exact = strlen(v->string) == v->len;
  if (strcmp(v->string, "NaN") == 0)
    *d = NAN;
  else if (strcmp(v->string, "Infinity") == 0)
    *d = INFINITY;
  else if (strcmp(v->string, "-Infinity") == 0)
    *d = -INFINITY;
  else /* strtod stops at a NUL inside the string, as libprotobuf's does */
    return v->len && v->string[0] != ' ' && v->string[v->len - 1] != ' '
               ? pbjson_read_double(v->string, d)
               : -1;
  return exact ? 0 : -1;
}

static int to_bool(const struct pbjson_value* v, protobuf_c_boolean* b) {
  static const char* const words[] = {"true",  "t", "yes", "y", "1",
                                      "false", "f", "no",  "n", "0"};
  *b = (protobuf_c_boolean)v->u;
  for (int k = 0; v->kind == PBJSON_STRING && k < 10; k++) {
    *b = k < 5;
    if (strlen(words[k]) == v->len && strcasecmp(words[k], v->string) == 0)
      return 0;
  }
  return v->kind == PBJSON_BOOL ? 0 : -1;
}

/* A name of the enum, or its number: in a string only one of its values,
 * as a JSON number any int32 (kept as an unknown value). */
static int to_enum(const ProtobufCEnumDescriptor* e,
                   const struct pbjson_value* v, int* number) {
  int64_t n = 0;
  uint64_t unused;
  const int is_int = to_integer(v, INT32_MIN, INT32_MAX, &n, &unused) == 0;
  const ProtobufCEnumValue* known = NULL;
  if (v->kind == PBJSON_STRING && strlen(v->string) == v->len)
    known = protobuf_c_enum_descriptor_get_value_by_name(e, v->string);
  if (v->kind == PBJSON_STRING && !known && is_int)
    known = protobuf_c_enum_descriptor_get_value(e, (int)n);
  *number = known ? known->value : (int)n;
  return known || (is_int && v->kind != PBJSON_STRING) ? 0 : -1;
}

/* Whether `key` is the lowerCamelCase JSON name of the .proto `name`. */
static int json_name_is(const char* name, const char* key, size_t len) {
  size_t k = 0;
  for (int upper = 0; *name; name++) {
    if (*name == '_') {
      upper = 1;
      continue;
    }
    const char c =
        (char)(upper && *name >= 'a' && *name <= 'z' ? *name - 'a' + 'A'
                                                     : *name);
    upper = 0;
    if (k >= len || key[k++] != c) return 0;
  }
  return k == len;
}

/* A field by its JSON name, else by its .proto name, as libprotobuf. */
static const ProtobufCFieldDescriptor* find_field(
    const ProtobufCMessageDescriptor* d, const char* key, size_t len) {
  for (unsigned i = 0; i < d->n_fields; i++)
    if (json_name_is(d->fields[i].name, key, len)) return &d->fields[i];
  for (unsigned i = 0; i < d->n_fields; i++)
    if (strlen(d->fields[i].name) == len &&
        memcmp(d->fields[i].name, key, len) == 0)
      return &d->fields[i];
  return NULL;
}

/* Stores one element (a number, a string or a message pointer) in field
 * `f`: appended when repeated, else in place of what was there. Takes a
 * string or message over only when it succeeds. */
static int store(struct pbjson_reader* r, ProtobufCMessage* m,
                 const ProtobufCFieldDescriptor* f, const void* element) {
  char** field = &PBJSON_MEMBER(char*, m, f->offset);
  const size_t size = pbjson_element_size(f->type);
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    size_t* n = &PBJSON_MEMBER(size_t, m, f->quantifier_offset);
    char* array = realloc(*field, (*n + 1) * size);
    if (!array) return pbjson_fail(r, "out of memory");
    *field = array;
    memcpy(array + (*n)++ * size, element, size);
    return 0;
  }
  if (f->type == PROTOBUF_C_TYPE_STRING) {
    if (*field != f->default_value) free(*field);
  } else if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->label == PROTOBUF_C_LABEL_OPTIONAL) {
    PBJSON_MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
  }
  memcpy(field, element, size);
  return 0;
}

/* The message an object (or a Duration's or Timestamp's string) goes to:
 * a new element of a repeated field, else the field's own, made when
 * absent, so that a message given twice merges, as libprotobuf. */
static ProtobufCMessage* message_for(struct pbjson_reader* r,
                                     ProtobufCMessage* m,
                                     const ProtobufCFieldDescriptor* f) {
  ProtobufCMessage* sub = PBJSON_MEMBER(ProtobufCMessage*, m, f->offset);
  if (sub && f->label != PROTOBUF_C_LABEL_REPEATED) return sub;
  const ProtobufCMessageDescriptor* d = f->descriptor;
  if (!(sub = malloc(d->sizeof_message))) {
    pbjson_fail(r, "out of memory");
    return NULL;
  }
  protobuf_c_message_init(d, sub);
  if (store(r, m, f, &sub) == 0) return sub;
  free(sub);
  return NULL;
}

/* A string for a message field: a Duration's or Timestamp's. */
static int set_time(struct pbjson_reader* r, ProtobufCMessage* m,
                    const ProtobufCFieldDescriptor* f,
                    const struct pbjson_value* v) {
  const ProtobufCMessageDescriptor* d = f->descriptor;
  int64_t seconds;
  int32_t nanos;
  if (v->kind != PBJSON_STRING ||
      (pbjson_is_duration(d)
           ? pbjson_read_duration(v->string, v->len, &seconds, &nanos)
       : pbjson_is_timestamp(d)
           ? pbjson_read_timestamp(v->string, &seconds, &nanos)
           : -1))
    return -1;
  ProtobufCMessage* sub = message_for(r, m, f);
  if (!sub) return -2; /* failed already */
  PBJSON_MEMBER(int64_t, sub, d->fields[0].offset) = seconds;
  PBJSON_MEMBER(int32_t, sub, d->fields[1].offset) = nanos;
  return 0;
}

/* Converts the scalar `v`, read from `text`, to `f`'s type and stores it. */
static int set_scalar(struct pbjson_reader* r, ProtobufCMessage* m,
                      const ProtobufCFieldDescriptor* f, struct pbjson_value* v,
                      const char* text) {
  union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    double d;
    protobuf_c_boolean b;
    int e;
    char* s;
  } x;
  int64_t i = 0;
  uint64_t u = 0;
  int rc = -1;
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      rc = to_integer(v, INT32_MIN, INT32_MAX, &i, &u), x.i32 = (int32_t)i;
      break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      rc = to_integer(v, 0, UINT32_MAX, &i, &u), x.u32 = (uint32_t)u;
      break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      rc = to_integer(v, INT64_MIN, INT64_MAX, &i, &u), x.i64 = i;
      break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      rc = to_integer(v, 0, UINT64_MAX, &i, &u), x.u64 = u;
      break;
    case PROTOBUF_C_TYPE_DOUBLE:
      rc = to_double(v, &x.d);
      break;
    case PROTOBUF_C_TYPE_BOOL:
      rc = to_bool(v, &x.b);
      break;
    case PROTOBUF_C_TYPE_ENUM:
      rc = to_enum(f->descriptor, v, &x.e);
      break;
    case PROTOBUF_C_TYPE_STRING: /* protobuf-c's strings end at a NUL */
      if (v->kind == PBJSON_STRING && strlen(v->string) != v->len)
        return pbjson_fail(r, "a NUL inside a string is not supported");
      rc = v->kind == PBJSON_STRING ? 0 : -1, x.s = v->string;
      break;
    case PROTOBUF_C_TYPE_MESSAGE: /* a Duration's or Timestamp's string */
      rc = set_time(r, m, f, v);
      if (rc != -1) return rc == 0 ? 0 : -1; /* stored, or out of memory */
      break;
    default: /* float and bytes: the API has none */
      return pbjson_fail(r, "the field's type is not supported");
  }
  if (rc != 0)
    return pbjson_fail(r, "invalid value %.*s",
                       (int)(r->p - text < 40 ? r->p - text : 40), text);
  if (store(r, m, f, &x) != 0) return -1;
  if (f->type == PROTOBUF_C_TYPE_STRING) v->string = NULL; /* stored */
  return 0;
}

static int read_object(struct pbjson_reader* r, ProtobufCMessage* m);

/* One JSON value for field `f` of `m`. */
static int read_value(struct pbjson_reader* r, ProtobufCMessage* m,
                      const ProtobufCFieldDescriptor* f) {
  pbjson_skip_space(r);
  if (pbjson_at(r, "null")) { /* absent, even inside a list */
    r->p += 4;
    return 0;
  }
  if (pbjson_at(r, "{")) {
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
      return pbjson_fail(r, "an object for a field that is no message");
    ProtobufCMessage* sub = message_for(r, m, f);
    return sub ? read_object(r, sub) : -1;
  }
  if (!pbjson_at(r, "[")) {
    const char* text = r->p;
    struct pbjson_value v = {.string = NULL};
    int rc = pbjson_read_scalar(r, &v);
    if (rc == 0) rc = set_scalar(r, m, f, &v, text);
    free(v.string);
    return rc;
  }
  if (f->label != PROTOBUF_C_LABEL_REPEATED)
    return pbjson_fail(r, "a list for a field that is not repeated");
  if (++r->depth > PBJSON_MAX_DEPTH) return pbjson_fail(r, "nested too deep");
  for (r->p++;; r->p++) {
    pbjson_skip_space(r);
    if (pbjson_at(r, "]")) break; /* also after a last ',', as libprotobuf */
    if (read_value(r, m, f) != 0) return -1;
    pbjson_skip_space(r);
    if (pbjson_at(r, "]")) break;
    if (!pbjson_at(r, ",")) return pbjson_fail(r, "expected , or ]");
  }
  r->p++;
  r->depth--;
  return 0;
}

static int read_object(struct pbjson_reader* r, ProtobufCMessage* m) {
  if (++r->depth > PBJSON_MAX_DEPTH) return pbjson_fail(r, "nested too deep");
  for (r->p++;; r->p++) {
    pbjson_skip_space(r);
    if (pbjson_at(r, "}")) break; /* also after a last ',', as libprotobuf */
    char* key;
    size_t len;
    if (pbjson_read_key(r, &key, &len) != 0) return -1;
    const ProtobufCFieldDescriptor* f = find_field(m->descriptor, key, len);
    if (!f) pbjson_fail(r, "unknown field \"%.40s\"", key);
    free(key);
    if (!f) return -1;
    pbjson_skip_space(r);
    if (!pbjson_at(r, ":")) return pbjson_fail(r, "expected :");
    r->p++;
    const size_t at = strlen(r->path);
    snprintf(r->path + at, sizeof(r->path) - at, "%s%s", at ? "." : "",
             f->name);
    const int rc = read_value(r, m, f);
    r->path[at] = '\0';
    if (rc != 0) return -1;
    pbjson_skip_space(r);
    if (pbjson_at(r, "}")) break;
    if (!pbjson_at(r, ",")) return pbjson_fail(r, "expected , or }");
  }
  r->p++;
  r->depth--;
  return 0;
}

ProtobufCMessage* pbjson_parse(const ProtobufCMessageDescriptor* descriptor,
                               const char* json, size_t len, char* error,
                               size_t error_size) {
  if (len == 0) json = ""; /* may be NULL then: NULL + 0 is undefined in C */
  struct pbjson_reader r = {json, json,  json + len, 0,
                            "",   error, error_size, 0};
  if (error_size) error[0] = '\0';
  ProtobufCMessage* m = malloc(descriptor->sizeof_message);
  if (!m) {
    pbjson_fail(&r, "out of memory");
    return NULL;
  }
  protobuf_c_message_init(descriptor, m);
  r.p = json + pbjson_utf8_prefix(json, len);
  if (r.p < r.end) { /* anywhere in the text, as libprotobuf */
    pbjson_fail(&r, "not UTF-8");
  } else {
    r.p = json;
    pbjson_skip_space(&r);
    if (!pbjson_at(&r, "{"))
      pbjson_fail(&r, "expected an object");
    else if (read_object(&r, m) == 0 && (pbjson_skip_space(&r), r.p < r.end))
      pbjson_fail(&r, "more text after the object");
  }
  if (!r.failed) return m;
  protobuf_c_message_free_unpacked(m, NULL);
  return NULL;
}
