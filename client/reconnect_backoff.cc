#include "client/reconnect_backoff.h"

#include <algorithm>
#include <cstdint>

namespace sipresolver::client {

absl::Duration ReconnectBackoff::Next(bool reconnect_now) {
  if (reconnect_now) return absl::ZeroDuration();
  const absl::Duration cap =
      std::min(max_, initial_ * (int64_t{1} << std::min(failures_, 16)));
  ++failures_;
  const int64_t cap_ns = std::max<int64_t>(absl::ToInt64Nanoseconds(cap), 0);
  return absl::Nanoseconds(static_cast<int64_t>(
      random_.UniformInclusive(static_cast<uint64_t>(cap_ns))));
}

}  // namespace sipresolver::client
