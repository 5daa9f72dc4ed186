#include "client/transport_name.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::cli {

absl::StatusOr<v1::Transport> ParseTransport(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower.empty()) return v1::TRANSPORT_UNSPECIFIED;
  if (lower == "udp") return v1::TRANSPORT_UDP;
  if (lower == "tcp") return v1::TRANSPORT_TCP;
  if (lower == "tls") return v1::TRANSPORT_TLS;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --transport '", text, "': want udp, tcp or tls"));
}

absl::string_view TransportName(v1::Transport transport) {
  switch (transport) {
    case v1::TRANSPORT_UNSPECIFIED:  // Means UDP (S12).
    case v1::TRANSPORT_UDP:
      return "udp";
    case v1::TRANSPORT_TCP:
      return "tcp";
    case v1::TRANSPORT_TLS:
      return "tls";
    default:
      return "?";
  }
}

}  // namespace sipresolver::cli
