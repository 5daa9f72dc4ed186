#include "lib/health/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::health {
namespace {

constexpr double kMinRate = 1e-9;  // One per ~32 years.
constexpr double kMaxRate = 1e9;   // One per nanosecond, the interval's unit.
constexpr double kMaxBurst = 1e9;

double Clamp(double value, double low, double high) {
  if (std::isnan(value)) return low;
  return std::min(std::max(value, low), high);
}

}  // namespace

absl::StatusOr<RateLimiter> RateLimiter::Create(double per_second, double burst,
                                                absl::Time now) {
  if (!std::isfinite(per_second) || per_second <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate limit: per_second must be a positive number, got ", per_second));
  }
  if (!std::isfinite(burst) || burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate limit: burst must be at least 1, got ", burst));
  }
  return RateLimiter(per_second, burst, now);
}

RateLimiter::RateLimiter(double per_second, double burst, absl::Time now)
    : per_second_(Clamp(per_second, kMinRate, kMaxRate)),
      burst_(Clamp(burst, 1, kMaxBurst)),
      // Rounded up: the granted rate may be a hair below per_second, never
      // above.
      interval_(absl::Nanoseconds(std::ceil(1e9 / per_second_))),
      tat_(now) {
  const double extra = burst_ - 1;
  if (extra == std::floor(extra)) {
    tolerance_ = interval_ * static_cast<int64_t>(extra);  // Exact.
  } else {
    tolerance_ = absl::Floor(interval_ * extra, absl::Nanoseconds(1));
  }
}

bool RateLimiter::TryAcquire(absl::Time now) {
  const absl::Time start = std::max(tat_, now);
  if (start - now > tolerance_) return false;
  tat_ = start + interval_;
  return true;
}

absl::Duration RateLimiter::TimeUntilAvailable(absl::Time now) const {
  return std::max(absl::ZeroDuration(), tat_ - tolerance_ - now);
}

}  // namespace sipresolver::health
