#include "lib/core/host_port.h"

#include "absl/strings/str_cat.h"

namespace sipresolver {

std::string BracketedHost(absl::string_view address) {
  if (address.find(':') == absl::string_view::npos) return std::string(address);
  return absl::StrCat("[", address, "]");
}

std::string HostPort(absl::string_view address, uint32_t port) {
  return absl::StrCat(BracketedHost(address), ":", port);
}

}  // namespace sipresolver
