#include "lib/nat/stun_message.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/nat/stun_wire.h"

namespace sipresolver::nat {
namespace {

using internal::Be16;
using internal::Be32;
using internal::Header;
using internal::PutAttribute;
using internal::PutFingerprint;
using internal::SetLength;
using internal::XorKey;

// Reported comprehension-required attribute types are capped: a crafted
// message could hold ~16k of them, and the list only serves an error message.
constexpr size_t kMaxUnknownReported = 32;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("STUN: ", what));
}

std::string AttrName(uint16_t type) { return absl::StrFormat("0x%04X", type); }

// MAPPED-ADDRESS and XOR-MAPPED-ADDRESS values (RFC 8489 14.1, 14.2).
absl::StatusOr<StunAddress> ParseAddress(absl::string_view value, bool xored,
                                         const StunTransactionId& id) {
  const char* name = xored ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS";
  if (value.size() < 4) return Invalid(absl::StrCat(name, " is too short"));
  const uint8_t family = static_cast<uint8_t>(value[1]);
  const size_t size = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
  if (size == 0) {
    return Invalid(
        absl::StrFormat("%s has unknown address family 0x%02X", name, family));
  }
  if (value.size() != 4 + size) {
    return Invalid(absl::StrCat(name, " has length ", value.size(), " for ",
                                family == 0x01 ? "IPv4" : "IPv6", " (expected ",
                                4 + size, ")"));
  }
  StunAddress out;
  out.port = Be16(value, 2);
  uint8_t bytes[16];
  std::memcpy(bytes, value.data() + 4, size);
  if (xored) {
    out.port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
    const std::array<uint8_t, 16> key = XorKey(id);
    for (size_t i = 0; i < size; ++i) bytes[i] ^= key[i];
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family == 0x01 ? AF_INET : AF_INET6, bytes, text,
                sizeof(text)) == nullptr) {
    return Invalid(absl::StrCat(name, " cannot be printed"));
  }
  out.address = text;
  return out;
}

// Comprehension-required attributes a Binding response may carry that we
// understand (and mostly ignore): the authentication ones, which only matter
// with credentials.
bool KnownRequired(uint16_t type) {
  switch (type) {
    case kStunAttrMappedAddress:
    case kStunAttrUsername:
    case kStunAttrMessageIntegrity:
    case kStunAttrErrorCode:
    case kStunAttrUnknownAttributes:
    case kStunAttrRealm:
    case kStunAttrNonce:
    case kStunAttrMessageIntegritySha256:
    case kStunAttrPasswordAlgorithm:
    case kStunAttrUserhash:
    case kStunAttrXorMappedAddress:
      return true;
    default:
      return false;
  }
}

// Attributes already taken: only the first of each counts (RFC 8489 14),
// even when it was empty.
struct Seen {
  bool error_code = false;
  bool unknown_attributes = false;
  bool software = false;
};

// One attribute into `r`.
absl::Status ApplyAttribute(uint16_t type, absl::string_view value,
                            BindingResponse& r, Seen& seen) {
  switch (type) {
    case kStunAttrXorMappedAddress:
    case kStunAttrMappedAddress: {
      std::optional<StunAddress>& slot = type == kStunAttrXorMappedAddress
                                             ? r.xor_mapped_address
                                             : r.mapped_address;
      if (slot.has_value()) return absl::OkStatus();
      absl::StatusOr<StunAddress> a = ParseAddress(
          value, type == kStunAttrXorMappedAddress, r.transaction_id);
      if (!a.ok()) return a.status();
      slot = *std::move(a);
      return absl::OkStatus();
    }
    case kStunAttrErrorCode: {
      if (std::exchange(seen.error_code, true)) return absl::OkStatus();
      if (value.size() < 4) return Invalid("ERROR-CODE is too short");
      const int error_class = static_cast<uint8_t>(value[2]) & 0x07;
      const int number = static_cast<uint8_t>(value[3]);
      if (error_class < 3 || error_class > 6 || number > 99) {
        return Invalid(absl::StrCat("ERROR-CODE class ", error_class,
                                    " number ", number, " is out of range"));
      }
      if (value.size() - 4 > kStunMaxTextSize) {
        return Invalid("ERROR-CODE reason is longer than 763 bytes");
      }
      r.error_code = error_class * 100 + number;
      // coturn counts NUL padding as part of the reason: drop it.
      absl::string_view reason = value.substr(4);
      while (!reason.empty() && reason.back() == '\0') reason.remove_suffix(1);
      r.error_reason = std::string(reason);
      return absl::OkStatus();
    }
    case kStunAttrUnknownAttributes:
      if (std::exchange(seen.unknown_attributes, true)) {
        return absl::OkStatus();
      }
      if (value.size() % 2 != 0) {
        return Invalid("UNKNOWN-ATTRIBUTES has an odd length");
      }
      for (size_t i = 0; i < value.size(); i += 2) {
        r.unknown_attributes.push_back(Be16(value, i));
      }
      return absl::OkStatus();
    case kStunAttrSoftware:
      if (std::exchange(seen.software, true)) return absl::OkStatus();
      if (value.size() > kStunMaxTextSize) {
        return Invalid("SOFTWARE is longer than 763 bytes");
      }
      r.software = std::string(value);
      return absl::OkStatus();
    case kStunAttrMessageIntegrity:
      if (value.size() != 20)
        return Invalid("MESSAGE-INTEGRITY is not 20 bytes");
      r.message_integrity = true;
      return absl::OkStatus();
    case kStunAttrMessageIntegritySha256:
      if (value.size() < 16 || value.size() > 32 || value.size() % 4 != 0) {
        return Invalid("MESSAGE-INTEGRITY-SHA256 has a bad length");
      }
      r.message_integrity = true;
      return absl::OkStatus();
    default:
      if (type < 0x8000 && !KnownRequired(type) &&
          r.unknown_required.size() < kMaxUnknownReported &&
          std::find(r.unknown_required.begin(), r.unknown_required.end(),
                    type) == r.unknown_required.end()) {
        r.unknown_required.push_back(type);
      }
      return absl::OkStatus();
  }
}

}  // namespace

std::string TransactionIdHex(const StunTransactionId& id) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

uint32_t StunFingerprint(absl::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; STUN messages are far below 4 GiB anyway.
  crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
              static_cast<uInt>(bytes.size()));
  return static_cast<uint32_t>(crc) ^ kStunFingerprintXor;
}

absl::StatusOr<std::string> EncodeBindingRequest(
    const StunTransactionId& id, const BindingRequestOptions& options) {
  if (options.software.size() > kStunMaxTextSize) {
    return absl::InvalidArgumentError(
        "software: longer than the 763 bytes STUN allows (RFC 8489 14.14)");
  }
  std::string out = Header(kStunBindingRequest, id);
  if (!options.software.empty()) {
    PutAttribute(out, kStunAttrSoftware, options.software);
  }
  SetLength(out);
  if (options.fingerprint) PutFingerprint(out);
  return out;
}

std::optional<StunTransactionId> PeekTransactionId(absl::string_view datagram) {
  if (datagram.size() < kStunHeaderSize ||
      (static_cast<uint8_t>(datagram[0]) & 0xC0) != 0 ||
      Be32(datagram, 4) != kStunMagicCookie) {
    return std::nullopt;
  }
  const size_t length = Be16(datagram, 2);
  if (length % 4 != 0 || kStunHeaderSize + length != datagram.size()) {
    return std::nullopt;
  }
  StunTransactionId id;
  std::memcpy(id.data(), datagram.data() + 8, id.size());
  return id;
}

absl::StatusOr<BindingResponse> DecodeBindingResponse(
    absl::string_view datagram) {
  if (datagram.size() < kStunHeaderSize) {
    return Invalid(absl::StrCat(datagram.size(),
                                " bytes: shorter than the 20-byte header"));
  }
  const uint16_t type = Be16(datagram, 0);
  if ((type & 0xC000) != 0) return Invalid("top two bits are not zero");
  if (Be32(datagram, 4) != kStunMagicCookie) {
    return Invalid("no magic cookie (an RFC 3489 server?)");
  }
  const size_t length = Be16(datagram, 2);
  if (length % 4 != 0) {
    return Invalid(absl::StrCat("length ", length, " is not a multiple of 4"));
  }
  if (kStunHeaderSize + length > datagram.size()) {
    return absl::DataLossError(
        absl::StrCat("STUN: truncated: the header announces ", length,
                     " bytes of attributes, ",
                     datagram.size() - kStunHeaderSize, " arrived"));
  }
  if (kStunHeaderSize + length < datagram.size()) {
    return Invalid(absl::StrCat(datagram.size() - kStunHeaderSize - length,
                                " bytes after the message"));
  }
  if (type != kStunBindingSuccess && type != kStunBindingError) {
    return Invalid(
        absl::StrFormat("message type 0x%04X is not a Binding response", type));
  }

  BindingResponse r;
  r.success = type == kStunBindingSuccess;
  std::memcpy(r.transaction_id.data(), datagram.data() + 8,
              r.transaction_id.size());
  Seen seen;
  bool after_integrity = false;
  size_t pos = kStunHeaderSize;
  const size_t end = datagram.size();
  while (pos < end) {
    if (end - pos < 4) return Invalid("attribute header overruns the message");
    const uint16_t attr = Be16(datagram, pos);
    const size_t size = Be16(datagram, pos + 2);
    const size_t value_at = pos + 4;
    const size_t padded = (size + 3) & ~size_t{3};
    if (padded > end - value_at) {
      return Invalid(absl::StrCat("attribute ", AttrName(attr), " of ", size,
                                  " bytes overruns the message"));
    }
    if (r.fingerprint) return Invalid("attribute after FINGERPRINT");
    const absl::string_view value = datagram.substr(value_at, size);
    if (attr == kStunAttrFingerprint) {
      if (size != 4) return Invalid("FINGERPRINT is not 4 bytes");
      const uint32_t expected = StunFingerprint(datagram.substr(0, pos));
      if (Be32(value, 0) != expected) {
        return Invalid(absl::StrFormat(
            "FINGERPRINT 0x%08X does not match the message (0x%08X)",
            Be32(value, 0), expected));
      }
      r.fingerprint = true;
    } else if (!after_integrity) {
      // After MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 8489 14.5).
      if (absl::Status s = ApplyAttribute(attr, value, r, seen); !s.ok()) {
        return s;
      }
      after_integrity = r.message_integrity;
    }
    pos = value_at + padded;
  }
  return r;
}

}  // namespace sipresolver::nat
