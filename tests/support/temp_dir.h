// TempDir: a fresh directory for one fixture's files (configuration, logs,
// keys), under $TEST_TMPDIR, $TMPDIR or /tmp, removed with everything in it
// when the TempDir goes. Move-only. WriteTextFile writes one such file.
#ifndef SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_
#define SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

#include "absl/status/status.h"
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

// Creates or truncates `path` and writes `text` to it (a server's
// configuration file, a zone file); INTERNAL naming the path on failure.
absl::Status WriteTextFile(const std::string& path, absl::string_view text);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_TEMP_DIR_H_
