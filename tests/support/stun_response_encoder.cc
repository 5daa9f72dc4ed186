#include "tests/support/stun_response_encoder.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/nat/stun_wire.h"

namespace sipresolver::testing {

absl::StatusOr<std::string> EncodeBindingResponse(
    const nat::BindingResponse& response, bool fingerprint) {
  // The STUN constants and the wire helpers the client's encoder uses too.
  using namespace nat;            // NOLINT(google-build-using-namespace)
  using namespace nat::internal;  // NOLINT(google-build-using-namespace)
  std::string out =
      Header(response.success ? kStunBindingSuccess : kStunBindingError,
             response.transaction_id);
  if (response.software.size() > kStunMaxTextSize ||
      response.error_reason.size() > kStunMaxTextSize) {
    return absl::InvalidArgumentError(
        "software/error_reason: longer than 763 bytes");
  }
  if (!response.software.empty()) {
    PutAttribute(out, kStunAttrSoftware, response.software);
  }
  const std::array<uint8_t, 16> key = XorKey(response.transaction_id);
  for (bool xored : {true, false}) {
    const std::optional<StunAddress>& a =
        xored ? response.xor_mapped_address : response.mapped_address;
    if (!a.has_value()) continue;
    uint8_t bytes[16];
    const std::string text = a->address;
    const bool nul = text.find('\0') != std::string::npos;
    const bool v4 = !nul && inet_pton(AF_INET, text.c_str(), bytes) == 1;
    if (!v4 && (nul || inet_pton(AF_INET6, text.c_str(), bytes) != 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "address \"", absl::CHexEscape(text), "\" is not an IP address"));
    }
    const size_t size = v4 ? 4 : 16;
    uint16_t port = a->port;
    if (xored) {
      port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
      for (size_t i = 0; i < size; ++i) bytes[i] ^= key[i];
    }
    std::string value;
    value.push_back('\0');
    value.push_back(v4 ? 0x01 : 0x02);
    PutBe16(value, port);
    value.append(reinterpret_cast<const char*>(bytes), size);
    PutAttribute(
        out, xored ? kStunAttrXorMappedAddress : kStunAttrMappedAddress, value);
  }
  if (response.error_code.has_value()) {
    const int code = *response.error_code;
    if (code < 300 || code > 699) {
      return absl::InvalidArgumentError(
          absl::StrCat("error_code: ", code, " is outside 300-699"));
    }
    std::string value(2, '\0');
    value.push_back(static_cast<char>(code / 100));
    value.push_back(static_cast<char>(code % 100));
    value += response.error_reason;
    PutAttribute(out, kStunAttrErrorCode, value);
  }
  if (!response.unknown_attributes.empty()) {
    if (response.unknown_attributes.size() > 0xFFFF / 2) {
      return absl::InvalidArgumentError("unknown_attributes: too many");
    }
    std::string value;
    for (uint16_t t : response.unknown_attributes) PutBe16(value, t);
    PutAttribute(out, kStunAttrUnknownAttributes, value);
  }
  if (out.size() + (fingerprint ? 8 : 0) > kStunMaxMessageSize) {
    return absl::InvalidArgumentError(
        "the response does not fit in one STUN message");
  }
  SetLength(out);
  if (fingerprint) PutFingerprint(out);
  return out;
}

}  // namespace sipresolver::testing
