#include "messages.h"

#include <stdlib.h>
#include <string.h>

ProtobufCMessage* message_copy(const ProtobufCMessage* message) {
  const size_t size = protobuf_c_message_get_packed_size(message);
  uint8_t* bytes = malloc(size ? size : 1);
  if (!bytes) return NULL;
  protobuf_c_message_pack(message, bytes);
  ProtobufCMessage* copy =
      protobuf_c_message_unpack(message->descriptor, NULL, size, bytes);
  free(bytes);
  return copy;
}

void message_free(void* message) {
  if (message) protobuf_c_message_free_unpacked(message, NULL);
}

Decision* decision_unpack(const uint8_t* data, size_t len) {
  return sipresolver__v1__decision__unpack(NULL, len, data);
}

/* Whether the scalar at `value` of `type` is its type's default. */
static int is_default(ProtobufCType type, const void* value) {
  switch (type) {
    case PROTOBUF_C_TYPE_BOOL:
      return *(const protobuf_c_boolean*)value == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      return *(const uint64_t*)value == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
      return *(const double*)value == 0;
    case PROTOBUF_C_TYPE_FLOAT:
      return *(const float*)value == 0;
    case PROTOBUF_C_TYPE_BYTES:
      return ((const ProtobufCBinaryData*)value)->len == 0;
    default: /* 32-bit integers and enums. */
      return *(const uint32_t*)value == 0;
  }
}

void message_normalize(ProtobufCMessage* message) {
  const ProtobufCMessageDescriptor* d = message->descriptor;
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor* f = &d->fields[i];
    char* field = (char*)message + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
      const size_t n = *(size_t*)((char*)message + f->quantifier_offset);
      ProtobufCMessage** items = *(ProtobufCMessage***)field;
      for (size_t j = 0; j < n; ++j) message_normalize(items[j]);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      ProtobufCMessage* sub = *(ProtobufCMessage**)field;
      if (sub) message_normalize(sub);
    } else if (f->type == PROTOBUF_C_TYPE_STRING) {
      char** s = (char**)field;
      if (*s && **s == '\0' && *s != f->default_value) {
        free(*s);
        *s = NULL;
      }
    } else if (f->quantifier_offset) {
      protobuf_c_boolean* has =
          (protobuf_c_boolean*)((char*)message + f->quantifier_offset);
      if (*has && is_default(f->type, field)) *has = 0;
    }
  }
}
