#include "lib/core/clock.h"

#include <chrono>

namespace sipresolver {

absl::Time RealClock::Now() const {
  auto since_boot = std::chrono::steady_clock::now().time_since_epoch();
  return absl::UnixEpoch() +
         absl::FromChrono(
             std::chrono::duration_cast<std::chrono::nanoseconds>(since_boot));
}

absl::Time SimulatedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

}  // namespace sipresolver
