#include "lib/core/random.h"

namespace sipresolver {

RealRandom::RealRandom() : engine_(std::random_device{}()) {}

uint64_t RealRandom::UniformInclusive(uint64_t bound) {
  absl::MutexLock lock(&mu_);
  return std::uniform_int_distribution<uint64_t>(0, bound)(engine_);
}

}  // namespace sipresolver
