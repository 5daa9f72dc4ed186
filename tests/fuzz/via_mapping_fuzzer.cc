// Fuzzes N1, the mapped address learned from the top Via of a registrar's
// response (lib/nat/mapped_address.h), which goes into every later request's
// Contact and Via. Input: a whole SIP response, as for sip_response (the
// seeds are the same). Checks: a mapping that is returned is a canonical IP
// address with a non-zero port, found by the Via method, and formats as
// host:port without anything that could end or extend a header line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "lib/nat/mapped_address.h"
#include "tests/fuzz/fuzz_check.h"

namespace nat = sipresolver::nat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view response(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<nat::MappedAddress> mapped =
      nat::MappedAddressFromResponse(response);
  if (!mapped.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(mapped.status()) ||
               absl::IsNotFound(mapped.status()) ||
               absl::IsDataLoss(mapped.status()));
    return 0;
  }
  FUZZ_CHECK(mapped->method == nat::MappedAddress::Method::kVia);
  FUZZ_CHECK(mapped->port != 0);
  const std::optional<std::string> canonical =
      nat::CanonicalIp(mapped->address);
  FUZZ_CHECK(canonical.has_value() && *canonical == mapped->address);
  const std::string host_port = nat::HostPort(*mapped);
  for (char c : host_port) {
    FUZZ_CHECK(c != '\r' && c != '\n' && c != ' ' && c != ';' && c != ',' &&
               c != '\0');
  }
  return 0;
}
