#include "tests/support/log_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace sipresolver::testing {

size_t LogFile::Size() const {
  struct stat st;
  return stat(path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::string LogFile::Read(size_t offset) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace sipresolver::testing
