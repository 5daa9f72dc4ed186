/* pbjson: protobuf-c messages to and from protobuf's JSON form, driven by
 * the descriptors protoc-c generates, so no message has a hand-written
 * encoder. What `sipresolver watch` prints with --json and writes to its
 * decision file (protobuf's MessageToJsonString with the .proto field names,
 * no whitespace, fields at their default omitted), and what it takes as
 * --profile (JsonStringToMessage), so a program reading either agent's
 * output cannot tell them apart.
 *
 * The messages are generated from a proto2 translation of proto/
 * (proto2c.cmake): a field is present when its has_ flag is set, its
 * pointer is not NULL, or its repeated count is above 0. A message from
 * the service carries exactly the fields a proto3 sender sends, the ones
 * not at their default, so printing the present fields prints what
 * protobuf prints. Not thread-safe state: none; reentrant. */
#ifndef SIPRESOLVER_AGENT_PBJSON_H_
#define SIPRESOLVER_AGENT_PBJSON_H_

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "buf.h"

/* Appends `message` to `out` as one JSON object without whitespace: the
 * present fields in field-number order under their .proto names; enums by
 * value name (a number when the value is unknown); 64-bit integers as
 * strings; bools, 32-bit integers and doubles as JSON values; strings
 * escaped as protobuf escapes them; google.protobuf.Timestamp as RFC 3339
 * ("2026-12-06T18:00:00.123Z", 0, 3, 6 or 9 fractional digits) and
 * google.protobuf.Duration as "1.500s". Check out->failed afterwards: it
 * is also set where libprotobuf refuses to print (a Timestamp or Duration
 * out of range) and for field types the API does not use (float, bytes).
 * A string ends at its first NUL (protobuf-c's strings are C strings). */
void pbjson_print(const ProtobufCMessage* message, struct buf* out);

/* Parses `json` (`len` bytes, not necessarily NUL-terminated) as a message
 * of `descriptor`, as JsonStringToMessage does: field names as in the
 * .proto or in lowerCamelCase, enums by name or number, 64-bit integers as
 * strings or numbers, Timestamp and Duration in their string forms, null
 * for an absent field. Unknown fields, values of the wrong type or out of
 * range, trailing bytes, invalid UTF-8, a NUL inside a string (protobuf-c
 * cannot hold it) and nesting deeper than 32 are errors. A field given
 * twice merges as in libprotobuf: the later value wins, messages merge,
 * lists append (libprotobuf refuses a proto3 `optional` field given twice;
 * the proto2 translation keeps no trace of `optional`, so pbjson cannot).
 * Returns the message, to be freed with
 * protobuf_c_message_free_unpacked(message, NULL), or NULL with a one-line
 * reason in `error` (of `error_size` bytes) that names the field. */
ProtobufCMessage* pbjson_parse(const ProtobufCMessageDescriptor* descriptor,
                               const char* json, size_t len, char* error,
                               size_t error_size);

#endif /* SIPRESOLVER_AGENT_PBJSON_H_ */
