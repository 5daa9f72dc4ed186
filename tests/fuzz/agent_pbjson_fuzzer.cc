// Fuzzes pbjson (client/device/pbjson.h), the device agent's JSON: the text
// is parsed as an ItspProfile (what --profile takes) and as a Decision
// (every kind of field: lists, nested messages, Timestamps, 64-bit
// integers, doubles). Checks: a refused text comes with a reason; an
// accepted one prints (unless it holds a Timestamp or Duration outside the
// range libprotobuf prints), the printout parses again and prints the same,
// and the message packs and unpacks to the same printout; nothing leaks and
// nothing is read past the input (the sanitizers).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sipresolver/v1/sipresolver.pb-c.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" {
#include "buf.h"
#include "pbjson.h"
}

namespace {

bool SamePrint(const struct buf& a, const struct buf& b) {
  return !a.failed && !b.failed && a.len == b.len &&
         std::memcmp(a.data, b.data, a.len) == 0;
}

void CheckRoundTrip(const ProtobufCMessageDescriptor* descriptor,
                    const char* json, size_t size) {
  char error[256] = "";
  ProtobufCMessage* m =
      pbjson_parse(descriptor, json, size, error, sizeof(error));
  if (m == nullptr) {
    FUZZ_CHECK(error[0] != '\0');
    return;
  }
  struct buf first = BUF_INIT;
  pbjson_print(m, &first);
  std::vector<uint8_t> wire(protobuf_c_message_get_packed_size(m));
  FUZZ_CHECK(protobuf_c_message_pack(m, wire.data()) == wire.size());
  protobuf_c_message_free_unpacked(m, nullptr);
  if (first.failed) {  // a Timestamp or Duration libprotobuf would not print
    buf_free(&first);
    return;
  }

  ProtobufCMessage* again =
      pbjson_parse(descriptor, first.data, first.len, error, sizeof(error));
  FUZZ_CHECK(again != nullptr);
  struct buf second = BUF_INIT;
  pbjson_print(again, &second);
  protobuf_c_message_free_unpacked(again, nullptr);
  FUZZ_CHECK(SamePrint(first, second));

  ProtobufCMessage* unpacked =
      protobuf_c_message_unpack(descriptor, nullptr, wire.size(), wire.data());
  FUZZ_CHECK(unpacked != nullptr);
  struct buf third = BUF_INIT;
  pbjson_print(unpacked, &third);
  protobuf_c_message_free_unpacked(unpacked, nullptr);
  FUZZ_CHECK(SamePrint(first, third));

  buf_free(&first);
  buf_free(&second);
  buf_free(&third);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes: ASan sees a read past the end.
  const std::vector<char> json(data, data + size);
  CheckRoundTrip(&sipresolver__v1__itsp_profile__descriptor, json.data(),
                 json.size());
  CheckRoundTrip(&sipresolver__v1__decision__descriptor, json.data(),
                 json.size());
  return 0;
}
