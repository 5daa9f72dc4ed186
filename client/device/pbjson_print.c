/* pbjson_print: a protobuf-c message as libprotobuf 3.21 prints it with
 * MessageToJsonString (preserve_proto_field_names, no whitespace, fields at
 * their default omitted). libprotobuf prints what is on the wire, in
 * field-number order; protoc-c sorts the fields by number, and a field is
 * present after unpacking exactly when it was on the wire. Its escaping,
 * including what it does with bytes that are not UTF-8, is reproduced. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"
#include "pbjson_internal.h"

/* libprotobuf's JsonEscaping: besides what JSON requires it escapes '<',
 * '>', DEL, the C1 controls and code points that are invisible or change
 * text direction (for HTML and JavaScript safety). */
static int escaped_code_point(uint32_t cp) {
  if (cp < 0xa0)
    return cp < 0x20 || cp == '"' || cp == '<' || cp == '>' || cp == '\\' ||
           cp >= 0x7f;
  return cp == 0xad || (cp >= 0x600 && cp <= 0x603) || cp == 0x6dd ||
         cp == 0x70f || cp == 0x17b4 || cp == 0x17b5 ||
         (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x206a && cp <= 0x206f) ||
         cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xe0001 ||
         (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0020 && cp <= 0xe007f);
}

static void print_escape(struct buf* out, uint32_t cp) {
  const char* simple = cp == '\b'   ? "\\b"
                       : cp == '\t' ? "\\t"
                       : cp == '\n' ? "\\n"
                       : cp == '\f' ? "\\f"
                       : cp == '\r' ? "\\r"
                       : cp == '"'  ? "\\\""
                       : cp == '\\' ? "\\\\"
                                    : NULL;
  if (simple)
    buf_puts(out, simple);
  else if (cp < 0x10000)
    buf_printf(out, "\\u%04" PRIx32, cp);
  else /* a UTF-16 surrogate pair */
    buf_printf(out, "\\u%04" PRIx32 "\\u%04" PRIx32,
               0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + (cp & 0x3ff));
}

/* Decodes UTF-8 as libprotobuf's ReadCodePoint does: overlong forms are
 * accepted; a byte sequence that is not UTF-8 is dropped together with the
 * byte that broke it, and so is a truncated sequence at the end. */
static void print_string(struct buf* out, const char* s, size_t len) {
  const unsigned char *p = (const unsigned char*)s, *end = p + len;
  buf_putc(out, '"');
  while (p < end) {
    const unsigned char* start = p;
    uint32_t cp = *p++;
    int more = cp < 0x80   ? 0
               : cp < 0xc0 ? -1
               : cp < 0xe0 ? 1
               : cp < 0xf0 ? 2
               : cp < 0xf8 ? 3
                           : -1;
    if (more < 0) continue;
    if (more) cp &= 0x3f >> more;
    int valid = 1;
    for (; more > 0 && valid && p < end; more--, p++) {
      cp = cp << 6 | (*p & 0x3f);
      valid = (*p & 0xc0) == 0x80;
    }
    if (!valid || more > 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
      continue;
    if (escaped_code_point(cp))
      print_escape(out, cp);
    else
      buf_append(out, start, (size_t)(p - start));
  }
  buf_putc(out, '"');
}

/* SimpleDtoa: the shortest of %.15g and %.17g that reads back the same. */
static void print_double(struct buf* out, double value) {
  if (isnan(value) || isinf(value)) {
    buf_puts(out, isnan(value) ? "\"NaN\""
                  : value > 0  ? "\"Infinity\""
                               : "\"-Infinity\"");
    return;
  }
  char text[32];
  snprintf(text, sizeof(text), "%.15g", value);
  if (strtod(text, NULL) != value) snprintf(text, sizeof(text), "%.17g", value);
  buf_puts(out, text);
}

static void print_message(const ProtobufCMessage* m, struct buf* out);

static void print_value(const ProtobufCFieldDescriptor* f, const void* value,
                        struct buf* out) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      buf_printf(out, "%" PRId32, *(const int32_t*)value);
      break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      buf_printf(out, "%" PRIu32, *(const uint32_t*)value);
      break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: /* 64-bit integers are strings in JSON */
      buf_printf(out, "\"%" PRId64 "\"", *(const int64_t*)value);
      break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      buf_printf(out, "\"%" PRIu64 "\"", *(const uint64_t*)value);
      break;
    case PROTOBUF_C_TYPE_DOUBLE:
      print_double(out, *(const double*)value);
      break;
    case PROTOBUF_C_TYPE_BOOL:
      buf_puts(out, *(const protobuf_c_boolean*)value ? "true" : "false");
      break;
    case PROTOBUF_C_TYPE_ENUM: {
      const int number = *(const int*)value;
      const ProtobufCEnumValue* v =
          protobuf_c_enum_descriptor_get_value(f->descriptor, number);
      if (v)
        buf_printf(out, "\"%s\"", v->name);
      else /* a value this agent does not know yet */
        buf_printf(out, "%d", number);
      break;
    }
    case PROTOBUF_C_TYPE_STRING: {
      const char* s = *(char* const*)value;
      print_string(out, s, strlen(s));
      break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
      print_message(*(ProtobufCMessage* const*)value, out);
      break;
    default: /* float and bytes: the API has none; fail loudly */
      out->failed = 1;
  }
}

static int present(const ProtobufCMessage* m,
                   const ProtobufCFieldDescriptor* f) {
  const void* value = (const char*)m + f->offset;
  if (f->label == PROTOBUF_C_LABEL_REPEATED)
    return PBJSON_MEMBER(size_t, m, f->quantifier_offset) > 0;
  if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
    const char* p = *(const char* const*)value;
    return p && (f->label != PROTOBUF_C_LABEL_NONE ||
                 f->type == PROTOBUF_C_TYPE_MESSAGE || *p);
  }
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
    return PBJSON_MEMBER(protobuf_c_boolean, m, f->quantifier_offset);
  if (f->label == PROTOBUF_C_LABEL_NONE) { /* proto3: present when not zero */
    static const char zero[sizeof(ProtobufCBinaryData)];
    return memcmp(value, zero, pbjson_element_size(f->type)) != 0;
  }
  return 1; /* required */
}

static void print_message(const ProtobufCMessage* m, struct buf* out) {
  const ProtobufCMessageDescriptor* d = m->descriptor;
  if (pbjson_is_duration(d) || pbjson_is_timestamp(d)) {
    const int64_t seconds = PBJSON_MEMBER(int64_t, m, d->fields[0].offset);
    const int32_t nanos = PBJSON_MEMBER(int32_t, m, d->fields[1].offset);
    if ((pbjson_is_duration(d) ? pbjson_print_duration
                               : pbjson_print_timestamp)(out, seconds, nanos))
      out->failed = 1; /* libprotobuf refuses to print it too */
    return;
  }
  buf_putc(out, '{');
  const char* separator = "";
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor* f = &d->fields[i];
    if (!present(m, f)) continue;
    buf_printf(out, "%s\"%s\":", separator, f->name);
    separator = ",";
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
      print_value(f, (const char*)m + f->offset, out);
      continue;
    }
    const char* array = PBJSON_MEMBER(char*, m, f->offset);
    const size_t n = PBJSON_MEMBER(size_t, m, f->quantifier_offset);
    buf_putc(out, '[');
    for (size_t j = 0; j < n; j++) {
      if (j) buf_putc(out, ',');
      print_value(f, array + j * pbjson_element_size(f->type), out);
    }
    buf_putc(out, ']');
  }
  buf_putc(out, '}');
}

void pbjson_print(const ProtobufCMessage* message, struct buf* out) {
  print_message(message, out);
}
