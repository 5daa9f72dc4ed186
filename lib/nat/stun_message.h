// STUN Binding messages (RFC 8489, which obsoletes RFC 5389; same wire
// format): the request a client sends and the responses it decodes, for
// learning the mapped address (N2).
//
// Why our own codec and not libnice's STUN usage API (libnice-dev 0.1.21
// ships stun/usages/bind.h): its -dev package pulls in GLib, GnuTLS and
// GUPnP-IGD development packages, its retransmission timer reads the system
// clock (we inject TimerFactory so tests run on simulated time), and its
// agent keeps its own transaction table beside ours. A Binding client needs
// a dozen fields of one message type, so a small, strictly bounds-checked
// codec, tested against the RFC 5769 vectors and fuzzed, is less to trust.
//
// Decoding policy: every length is checked against the bytes that are there
// before anything is read; no recursion, one bounded pass over the attributes.
// Only what a Binding client needs is interpreted (XOR-MAPPED-ADDRESS,
// MAPPED-ADDRESS, ERROR-CODE, UNKNOWN-ATTRIBUTES, SOFTWARE, FINGERPRINT);
// MESSAGE-INTEGRITY(-SHA256) is noted but not verified (that needs the
// credentials, which Binding keep-alives do not use). Unknown
// comprehension-optional attributes are skipped; unknown comprehension-
// required ones are reported, and the caller must fail the transaction
// (RFC 8489 6.3.3, 6.3.4). Pure functions: safe from any thread.
#ifndef SIPRESOLVER_LIB_NAT_STUN_MESSAGE_H_
#define SIPRESOLVER_LIB_NAT_STUN_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sipresolver::nat {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr uint32_t kStunFingerprintXor = 0x5354554E;
inline constexpr size_t kStunHeaderSize = 20;
// The largest message the 16-bit length field allows.
inline constexpr size_t kStunMaxMessageSize = kStunHeaderSize + 0xFFFC;
// SOFTWARE and the ERROR-CODE reason: at most 763 bytes (RFC 8489 14.14).
inline constexpr size_t kStunMaxTextSize = 763;

// Message types of the Binding method.
inline constexpr uint16_t kStunBindingRequest = 0x0001;
inline constexpr uint16_t kStunBindingSuccess = 0x0101;
inline constexpr uint16_t kStunBindingError = 0x0111;

// Attribute types. 0x0000-0x7FFF are comprehension-required.
inline constexpr uint16_t kStunAttrMappedAddress = 0x0001;
inline constexpr uint16_t kStunAttrUsername = 0x0006;
inline constexpr uint16_t kStunAttrMessageIntegrity = 0x0008;
inline constexpr uint16_t kStunAttrErrorCode = 0x0009;
inline constexpr uint16_t kStunAttrUnknownAttributes = 0x000A;
inline constexpr uint16_t kStunAttrRealm = 0x0014;
inline constexpr uint16_t kStunAttrNonce = 0x0015;
inline constexpr uint16_t kStunAttrMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kStunAttrPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kStunAttrUserhash = 0x001E;
inline constexpr uint16_t kStunAttrXorMappedAddress = 0x0020;
inline constexpr uint16_t kStunAttrSoftware = 0x8022;
inline constexpr uint16_t kStunAttrFingerprint = 0x8028;

// 96 bits, chosen at random by the client per transaction (RFC 8489 5).
using StunTransactionId = std::array<uint8_t, 12>;
std::string TransactionIdHex(const StunTransactionId& id);  // 24 hex digits

struct BindingRequestOptions {
  std::string software;     // SOFTWARE attribute; "" = none.
  bool fingerprint = true;  // FINGERPRINT attribute last.
};

// A Binding request: 20-byte header with the magic cookie and `id`, then
// SOFTWARE (padded with zero bytes) and FINGERPRINT as asked.
// INVALID_ARGUMENT if `software` is longer than kStunMaxTextSize.
absl::StatusOr<std::string> EncodeBindingRequest(
    const StunTransactionId& id, const BindingRequestOptions& options = {});

// A transport address in a response. `address` is canonical IP text (IPv6
// without brackets).
struct StunAddress {
  std::string address;
  uint16_t port = 0;
  bool operator==(const StunAddress& o) const {
    return address == o.address && port == o.port;
  }
  bool operator!=(const StunAddress& o) const { return !(*this == o); }
};

struct BindingResponse {
  bool success = true;  // 0x0101; false: error response 0x0111.
  StunTransactionId transaction_id{};
  std::optional<StunAddress> xor_mapped_address;
  std::optional<StunAddress> mapped_address;  // RFC 3489-era servers.
  // ERROR-CODE: class * 100 + number, 300-699, and its reason phrase (as
  // sent, UTF-8, escape before printing; trailing NUL bytes removed: coturn
  // counts its padding in the attribute length).
  std::optional<int> error_code;
  std::string error_reason;
  // UNKNOWN-ATTRIBUTES of a 420 error: what the server did not understand.
  std::vector<uint16_t> unknown_attributes;
  // Comprehension-required attribute types (< 0x8000) this codec does not
  // understand, in order of appearance, each once.
  std::vector<uint16_t> unknown_required;
  std::string software;
  bool message_integrity = false;  // Present; not verified.
  bool fingerprint = false;        // Present (and then verified).

  // The mapping: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS, else null.
  const StunAddress* mapped() const {
    if (xor_mapped_address.has_value()) return &*xor_mapped_address;
    if (mapped_address.has_value()) return &*mapped_address;
    return nullptr;
  }
};

// The transaction id of a datagram that has a STUN header (top two bits 0,
// the magic cookie, a length that is a multiple of 4 and matches the size),
// whatever its type; nullopt otherwise. Cheap: for matching a datagram to
// its transaction before decoding it.
std::optional<StunTransactionId> PeekTransactionId(absl::string_view datagram);

// Decodes one datagram as a Binding success or error response.
// DATA_LOSS if the datagram is shorter than its header says (truncated);
// INVALID_ARGUMENT for everything else: no STUN header or magic cookie (an
// RFC 3489 server), another message type, trailing bytes, an attribute that
// overruns the message, a malformed address, family or error code, a
// FINGERPRINT that does not match or is not last.
absl::StatusOr<BindingResponse> DecodeBindingResponse(
    absl::string_view datagram);

// CRC-32 of `bytes` XOR 0x5354554E: the FINGERPRINT value (RFC 8489 14.7).
uint32_t StunFingerprint(absl::string_view bytes);

}  // namespace sipresolver::nat

#endif  // SIPRESOLVER_LIB_NAT_STUN_MESSAGE_H_
