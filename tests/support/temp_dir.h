// TempDir: a fresh directory for one fixture's files (configuration, logs,
// keys), under $TEST_TMPDIR, $TMPDIR or /tmp, removed with everything in it
// when the TempDir goes. Move-only.
#ifndef SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_
#define SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sipresolver::testing {

class TempDir {
 public:
  // A new directory named PREFIX.XXXXXX.
  static absl::StatusOr<TempDir> Create(absl::string_view prefix);

  TempDir() = default;  // No directory.
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // PATH/name.
  std::string File(absl::string_view name) const;

 private:
  void Remove();
  std::string path_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_
