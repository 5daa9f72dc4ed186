// Server names as a device is configured with them: a domain name or an IP
// literal (R4). Validation here is what lets Resolve answer INVALID_ARGUMENT
// naming the rule a name broke, before any DNS traffic.
#ifndef SIPRESOLVER_LIB_DNS_DOMAIN_NAME_H_
#define SIPRESOLVER_LIB_DNS_DOMAIN_NAME_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sipresolver::dns {

inline constexpr size_t kMaxDomainNameLength = 253;  // Text form, no dot.
inline constexpr size_t kMaxLabelLength = 63;

// Lower-cases, drops one trailing dot and checks RFC 1035 limits: 1-253
// characters, labels of 1-63 letters, digits, '-' or '_' that do not start or
// end with '-'. Errors are INVALID_ARGUMENT and say which label is wrong.
absl::StatusOr<std::string> NormalizeDomainName(absl::string_view name);

// The canonical text of an IPv4 or IPv6 literal ("[::1]" accepted), or
// nullopt when `text` is not an IP literal.
std::optional<std::string> ParseIpLiteral(absl::string_view text);

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_DOMAIN_NAME_H_
