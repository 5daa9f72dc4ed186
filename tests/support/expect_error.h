// ExpectError: the unit tests' check that a StatusOr failed with a given code
// and a message naming what was wrong (the project's error convention: the
// message says which field or value, so a test pins that text too).
#ifndef SIPRESOLVER_TESTS_SUPPORT_EXPECT_ERROR_H_
#define SIPRESOLVER_TESTS_SUPPORT_EXPECT_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sipresolver::testing {

// Expects `result` to be an error with `code` whose message contains `text`.
template <typename T>
void ExpectError(const absl::StatusOr<T>& result, absl::StatusCode code,
                 const std::string& text) {
  ASSERT_FALSE(result.ok()) << "succeeded although expected: " << text;
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr(text));
}

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_EXPECT_ERROR_H_
