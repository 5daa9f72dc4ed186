#include "server/client_identity.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace sipresolver::server {
namespace {

// "2001:db8:1:2::/64" for any address of that /64 (an IPv4-mapped one is
// its IPv4 address); "" when `text` is not an IPv6 address.
std::string Ipv6Slash64(absl::string_view text) {
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buffer) return "";
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, buffer, bytes) != 1) return "";
  // An IPv4-mapped address is that IPv4 client.
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0,    0,
                                            0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
    inet_ntop(AF_INET, bytes + 12, buffer, sizeof buffer);
    return buffer;
  }
  std::memset(bytes + 8, 0, 8);
  inet_ntop(AF_INET6, bytes, buffer, sizeof buffer);
  return absl::StrCat(buffer, "/64");
}

}  // namespace

std::string ClientIdentity(const std::vector<std::string>& cert_identities,
                           absl::string_view peer) {
  if (!cert_identities.empty()) {
    return absl::StrCat("cert:", absl::StrJoin(cert_identities, ","));
  }
  absl::string_view rest = peer;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    const size_t colon = rest.rfind(':');
    return absl::StrCat("ip:", rest.substr(0, colon));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:[")) {
    const size_t close = rest.find(']');
    if (close != absl::string_view::npos) {
      const std::string prefix = Ipv6Slash64(rest.substr(0, close));
      if (!prefix.empty()) return absl::StrCat("ip:", prefix);
    }
  }
  return std::string(peer);
}

}  // namespace sipresolver::server
