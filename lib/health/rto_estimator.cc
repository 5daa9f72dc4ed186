#include "lib/health/rto_estimator.h"

#include <algorithm>

namespace sipresolver::health {

void RtoEstimator::Sample(absl::Duration rtt) {
  rtt = std::max(rtt, absl::ZeroDuration());
  backoffs_ = 0;
  if (!has_samples_) {  // RFC 6298 2.2.
    has_samples_ = true;
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    return;
  }
  // RFC 6298 2.3 with alpha = 1/8, beta = 1/4; RTTVAR first, from the old
  // SRTT.
  rttvar_ = rttvar_ * 0.75 + absl::AbsDuration(srtt_ - rtt) * 0.25;
  srtt_ = srtt_ * 0.875 + rtt * 0.125;
}

void RtoEstimator::Backoff() {
  if (backoffs_ < 16) ++backoffs_;  // 2^16 * any floor is past any ceiling.
}

absl::Duration RtoEstimator::rto() const {
  if (!has_samples_) return options_.max_rto;
  absl::Duration rto = srtt_ + 4 * rttvar_;
  rto = std::clamp(rto, options_.min_rto, options_.max_rto);
  for (int i = 0; i < backoffs_ && rto < options_.max_rto; ++i) rto *= 2;
  return std::min(rto, options_.max_rto);
}

}  // namespace sipresolver::health
