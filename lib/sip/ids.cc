#include "lib/sip/ids.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sipresolver::sip {
namespace {

std::string RandomHex(Random& random, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) {
    absl::StrAppendFormat(&out, "%016x", random.UniformInclusive(UINT64_MAX));
  }
  return out;
}

}  // namespace

std::string NewBranch(Random& random) {
  return absl::StrCat(kBranchCookie, RandomHex(random, 1));
}

std::string NewTag(Random& random) { return RandomHex(random, 1); }

std::string NewCallId(Random& random, const std::string& host) {
  return absl::StrCat(RandomHex(random, 2), "@", host);
}

}  // namespace sipresolver::sip
