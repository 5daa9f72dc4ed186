// FUZZ_CHECK: an invariant a fuzz target asserts about a parser's result.
// A broken invariant prints what was expected and aborts, which libFuzzer
// reports as a crash and saves as a reproducer, like a sanitizer finding.
// Used instead of assert() so that it also fires in release (NDEBUG) builds.
#ifndef SIPRESOLVER_TESTS_FUZZ_FUZZ_CHECK_H_
#define SIPRESOLVER_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // SIPRESOLVER_TESTS_FUZZ_FUZZ_CHECK_H_
