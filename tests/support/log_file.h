// LogFile: a file that a server under test appends to (its log, its
// stderr), as the fixture reads it: whole for diagnostics, from an offset
// (what one launch wrote), or from a mark, so that a fixture can reset its
// counts of logged events without truncating a file the server still holds
// open. Reads take what is there now; a missing file reads as "".
#ifndef SIPRESOLVER_TESTS_SUPPORT_LOG_FILE_H_
#define SIPRESOLVER_TESTS_SUPPORT_LOG_FILE_H_

#include <cstddef>
#include <string>
#include <utility>

namespace sipresolver::testing {

class LogFile {
 public:
  LogFile() = default;
  explicit LogFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  size_t Size() const;
  std::string Read(size_t offset = 0) const;

  // Later ReadSinceMark() calls skip what has been written so far.
  void Mark() { mark_ = Size(); }
  std::string ReadSinceMark() const { return Read(mark_); }

 private:
  std::string path_;
  size_t mark_ = 0;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_LOG_FILE_H_
