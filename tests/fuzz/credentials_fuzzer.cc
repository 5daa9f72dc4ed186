// Fuzzes CredentialStore::Parse (the operator's probe credentials file).
// Checks: what parses is found again under its normalised domain with the
// username and password as written; and passwords never reach an error
// message - the result of parsing must be exactly the same when every
// password is replaced by another value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/dns/domain_name.h"
#include "lib/health/credentials.h"
#include "tests/fuzz/fuzz_check.h"

using sipresolver::health::CredentialStore;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<CredentialStore> store = CredentialStore::Parse(text);

  // The same file with other passwords, tokenised as credentials.h says.
  std::string replaced;
  std::vector<std::vector<absl::string_view>> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    // DOMAIN USERNAME PASSWORD, the password being the rest of the line.
    std::vector<absl::string_view> fields =
        absl::StrSplit(stripped, absl::MaxSplits(absl::ByAnyChar(" \t"), 1),
                       absl::SkipEmpty());
    if (fields.size() == 2) {
      absl::string_view rest = absl::StripLeadingAsciiWhitespace(fields[1]);
      const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      fields = {fields[0], rest.substr(0, end),
                absl::StripLeadingAsciiWhitespace(rest.substr(end))};
    }
    if (!stripped.empty() && stripped.front() != '#' && fields.size() == 3 &&
        !fields[2].empty()) {
      absl::StrAppend(&replaced, fields[0], " ", fields[1], " pw",
                      entries.size(), "\n");
      entries.push_back(fields);
    } else {
      absl::StrAppend(&replaced, line, "\n");
    }
  }
  absl::StatusOr<CredentialStore> other = CredentialStore::Parse(replaced);
  FUZZ_CHECK(store.status() == other.status());

  if (!store.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(store.status()));
    return 0;
  }
  FUZZ_CHECK(store->size() == entries.size());
  for (const auto& fields : entries) {
    absl::StatusOr<std::string> domain =
        sipresolver::dns::NormalizeDomainName(fields[0]);
    FUZZ_CHECK(domain.ok());
    auto found = store->Find(*domain);
    FUZZ_CHECK(found.has_value());
    FUZZ_CHECK(found->username == fields[1]);
    FUZZ_CHECK(found->password == fields[2]);
  }
  return 0;
}
