// Random: injected wherever a choice is random (SRV weighted order, jitter),
// so tests can make it deterministic.
#ifndef SIPRESOLVER_LIB_CORE_RANDOM_H_
#define SIPRESOLVER_LIB_CORE_RANDOM_H_

#include <cstdint>
#include <random>

#include "absl/synchronization/mutex.h"

namespace sipresolver {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed integer in [0, bound]; bound itself included.
  virtual uint64_t UniformInclusive(uint64_t bound) = 0;
};

// Seeded from std::random_device. Thread-safe.
class RealRandom : public Random {
 public:
  RealRandom();
  uint64_t UniformInclusive(uint64_t bound) override;

 private:
  absl::Mutex mu_;
  std::mt19937_64 engine_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_RANDOM_H_
