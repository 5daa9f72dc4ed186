// Encodes STUN Binding responses: what a STUN server sends, for the tests
// and the fuzzer of the client's decoder (never needed by the product).
#ifndef SIPRESOLVER_TESTS_SUPPORT_STUN_RESPONSE_ENCODER_H_
#define SIPRESOLVER_TESTS_SUPPORT_STUN_RESPONSE_ENCODER_H_

#include <string>

#include "absl/status/statusor.h"
#include "lib/nat/stun_message.h"

namespace sipresolver::testing {

// The inverse of nat::DecodeBindingResponse: writes SOFTWARE, the addresses,
// ERROR-CODE and UNKNOWN-ATTRIBUTES that are set (not `unknown_required` or
// `message_integrity`), then FINGERPRINT if `fingerprint`. INVALID_ARGUMENT
// for an address that is not IP text, an error code outside 300-699, text
// longer than kStunMaxTextSize, or more than fits in one message.
absl::StatusOr<std::string> EncodeBindingResponse(
    const nat::BindingResponse& response, bool fingerprint = true);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_STUN_RESPONSE_ENCODER_H_
