// Internal to lib/nat and the test encoder of responses: big-endian fields,
// attributes, the header, FINGERPRINT and the XOR key of RFC 8489.
// Not part of the library's interface: include stun_message.h instead.
#ifndef SIPRESOLVER_LIB_NAT_STUN_WIRE_H_
#define SIPRESOLVER_LIB_NAT_STUN_WIRE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "lib/nat/stun_message.h"

namespace sipresolver::nat::internal {

inline uint16_t Be16(absl::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) |
                               static_cast<uint8_t>(b[at + 1]));
}

inline uint32_t Be32(absl::string_view b, size_t at) {
  return (uint32_t{Be16(b, at)} << 16) | Be16(b, at + 2);
}

inline void PutBe16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

inline void PutBe32(std::string& out, uint32_t v) {
  PutBe16(out, static_cast<uint16_t>(v >> 16));
  PutBe16(out, static_cast<uint16_t>(v & 0xFFFF));
}

inline void SetLength(std::string& message) {
  const size_t length = message.size() - kStunHeaderSize;
  message[2] = static_cast<char>(length >> 8);
  message[3] = static_cast<char>(length & 0xFF);
}

// Appends type, length, value and zero padding to a 4-byte boundary.
inline void PutAttribute(std::string& out, uint16_t type,
                         absl::string_view value) {
  PutBe16(out, type);
  PutBe16(out, static_cast<uint16_t>(value.size()));
  out.append(value.data(), value.size());
  out.append((4 - value.size() % 4) % 4, '\0');
}

inline std::string Header(uint16_t type, const StunTransactionId& id) {
  std::string out;
  out.reserve(kStunHeaderSize + 64);
  PutBe16(out, type);
  PutBe16(out, 0);  // Length, set once the attributes are in.
  PutBe32(out, kStunMagicCookie);
  out.append(reinterpret_cast<const char*>(id.data()), id.size());
  return out;
}

// FINGERPRINT covers everything before it, with a length that includes it.
inline void PutFingerprint(std::string& message) {
  const size_t at = message.size();
  PutBe16(message, kStunAttrFingerprint);
  PutBe16(message, 4);
  PutBe32(message, 0);
  SetLength(message);
  const uint32_t crc =
      StunFingerprint(absl::string_view(message).substr(0, at));
  for (int i = 0; i < 4; ++i) {
    message[at + 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  }
}

// The key addresses are XORed with: the magic cookie, then (for IPv6) the
// transaction id (RFC 8489 14.2).
inline std::array<uint8_t, 16> XorKey(const StunTransactionId& id) {
  std::array<uint8_t, 16> key;
  for (int i = 0; i < 4; ++i)
    key[i] = (kStunMagicCookie >> (24 - 8 * i)) & 0xFF;
  std::copy(id.begin(), id.end(), key.begin() + 4);
  return key;
}

}  // namespace sipresolver::nat::internal

#endif  // SIPRESOLVER_LIB_NAT_STUN_WIRE_H_
