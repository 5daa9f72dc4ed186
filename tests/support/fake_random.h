// FakeRandom: a Random that returns scripted values (then 0), so tests of
// random choices are deterministic. SeededRandom: a real distribution from a
// fixed seed, for statistical tests that must not flake.
#ifndef SIPRESOLVER_TESTS_SUPPORT_FAKE_RANDOM_H_
#define SIPRESOLVER_TESTS_SUPPORT_FAKE_RANDOM_H_

#include <algorithm>
#include <deque>
#include <random>

#include "lib/core/random.h"

namespace sipresolver::testing {

class FakeRandom : public Random {
 public:
  FakeRandom() = default;
  explicit FakeRandom(std::deque<uint64_t> values)
      : values_(std::move(values)) {}

  uint64_t UniformInclusive(uint64_t bound) override {
    if (values_.empty()) return 0;
    uint64_t v = values_.front();
    values_.pop_front();
    return std::min(v, bound);
  }

 private:
  std::deque<uint64_t> values_;
};

class SeededRandom : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t UniformInclusive(uint64_t bound) override {
    return std::uniform_int_distribution<uint64_t>(0, bound)(engine_);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_FAKE_RANDOM_H_
