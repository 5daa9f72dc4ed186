// Fuzzes the STUN Binding response decoder (lib/nat/stun_message.h) with
// datagrams as a STUN server (or anyone who can reach the client's port)
// sends them. Checks, beyond the sanitizers:
//   - PeekTransactionId agrees with a successful decode;
//   - decoded values are within the documented bounds (canonical IP text,
//     error code 300-699, text at most 763 bytes, unknown comprehension-
//     required types below 0x8000 and each listed once);
//   - EncodeBindingResponse is the inverse: re-encoding what was decoded
//     and decoding again gives the same values.
#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "lib/nat/stun_message.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/stun_response_encoder.h"

namespace {

namespace nat = sipresolver::nat;

bool IsCanonicalIp(const std::string& text) {
  unsigned char bytes[16];
  char back[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), bytes) == 1) {
      return inet_ntop(family, bytes, back, sizeof(back)) != nullptr &&
             text == back;
    }
  }
  return false;
}

void CheckAddress(const std::optional<nat::StunAddress>& a) {
  if (a.has_value()) FUZZ_CHECK(IsCanonicalIp(a->address));
}

bool SameValues(const nat::BindingResponse& a, const nat::BindingResponse& b) {
  return a.success == b.success && a.transaction_id == b.transaction_id &&
         a.xor_mapped_address == b.xor_mapped_address &&
         a.mapped_address == b.mapped_address && a.error_code == b.error_code &&
         a.error_reason == b.error_reason &&
         a.unknown_attributes == b.unknown_attributes &&
         a.software == b.software;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view datagram(reinterpret_cast<const char*>(data), size);
  const std::optional<nat::StunTransactionId> peeked =
      nat::PeekTransactionId(datagram);
  absl::StatusOr<nat::BindingResponse> r = nat::DecodeBindingResponse(datagram);
  if (!r.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(r.status()) ||
               absl::IsDataLoss(r.status()));
    return 0;
  }
  FUZZ_CHECK(peeked.has_value() && *peeked == r->transaction_id);
  FUZZ_CHECK(size >= nat::kStunHeaderSize && size <= nat::kStunMaxMessageSize);
  CheckAddress(r->xor_mapped_address);
  CheckAddress(r->mapped_address);
  if (r->error_code) FUZZ_CHECK(*r->error_code >= 300 && *r->error_code <= 699);
  FUZZ_CHECK(r->error_reason.size() <= nat::kStunMaxTextSize);
  FUZZ_CHECK(r->software.size() <= nat::kStunMaxTextSize);
  for (size_t i = 0; i < r->unknown_required.size(); ++i) {
    FUZZ_CHECK(r->unknown_required[i] < 0x8000);
    FUZZ_CHECK(std::count(r->unknown_required.begin(),
                          r->unknown_required.end(),
                          r->unknown_required[i]) == 1);
  }
  if (r->mapped() != nullptr) {
    FUZZ_CHECK(r->mapped() == (r->xor_mapped_address ? &*r->xor_mapped_address
                                                     : &*r->mapped_address));
  }

  absl::StatusOr<std::string> encoded =
      sipresolver::testing::EncodeBindingResponse(*r, r->fingerprint);
  FUZZ_CHECK(encoded.ok());
  absl::StatusOr<nat::BindingResponse> again =
      nat::DecodeBindingResponse(*encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(SameValues(*r, *again));
  FUZZ_CHECK(again->fingerprint == r->fingerprint);
  return 0;
}
