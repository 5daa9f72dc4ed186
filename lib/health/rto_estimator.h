// RtoEstimator: how long to wait for one endpoint's answer before calling a
// probe missed, learned from that endpoint's own round-trip times the way
// TCP computes its retransmission timeout (RFC 6298): SRTT, RTTVAR and
// RTO = SRTT + 4 * RTTVAR, clamped to [min_rto, max_rto].
//
// Why: a fixed probe timeout must be long enough for the slowest server
// (a far ITSP at 300 ms), which makes detection slow for every server near
// by; an RTO per endpoint is short where answers come fast and long where
// they come slowly. Each probe is a new SIP transaction, so every answer is
// an unambiguous sample (no Karn's rule needed).
//
// Before the first sample the RTO is max_rto (RFC 6298 2.1 starts at 1 s).
// Backoff() doubles it (RFC 6298 5.5) while probes go unanswered, up to
// max_rto; the next sample ends the backoff. Plain value; not thread-safe.
#ifndef SIPRESOLVER_LIB_HEALTH_RTO_ESTIMATOR_H_
#define SIPRESOLVER_LIB_HEALTH_RTO_ESTIMATOR_H_

#include "absl/time/time.h"

namespace sipresolver::health {

struct RtoOptions {
  // The floor. Loopback and LAN servers answer in well under a millisecond,
  // so for them the floor alone decides how fast a miss is seen; it must
  // stay above a busy server's scheduling hiccups.
  absl::Duration min_rto = absl::Milliseconds(50);
  absl::Duration max_rto = absl::Seconds(1);  // The probe timeout (ceiling).
};

class RtoEstimator {
 public:
  explicit RtoEstimator(const RtoOptions& options) : options_(options) {}

  void Sample(absl::Duration rtt);  // A probe answered after `rtt`.
  void Backoff();                   // A probe went unanswered.

  absl::Duration rto() const;
  bool has_samples() const { return has_samples_; }
  absl::Duration srtt() const { return srtt_; }
  absl::Duration rttvar() const { return rttvar_; }

 private:
  RtoOptions options_;
  bool has_samples_ = false;
  absl::Duration srtt_;
  absl::Duration rttvar_;
  int backoffs_ = 0;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_RTO_ESTIMATOR_H_
