// Eventually: polls a condition on real time until it holds, for tests that
// wait on real processes and sockets. The default timeout is generous on
// purpose: it only bounds a failing test, and the suite must pass on a
// saturated machine; what a test measures is never the time this takes.
#ifndef SIPRESOLVER_TESTS_SUPPORT_EVENTUALLY_H_
#define SIPRESOLVER_TESTS_SUPPORT_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sipresolver::testing {

inline constexpr absl::Duration kEventuallyTimeout = absl::Seconds(30);

// True as soon as `condition` is; false if it still is not after `timeout`
// (checked once more at the end).
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = kEventuallyTimeout,
                       absl::Duration poll = absl::Milliseconds(50)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(poll);
  }
  return condition();
}

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_EVENTUALLY_H_
