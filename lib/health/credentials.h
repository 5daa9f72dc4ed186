// CredentialStore: probe credentials per domain, configured by the operator
// (never by clients) in a file, e.g. a mounted Kubernetes Secret:
//
//   # domain            username   password
//   itsp.example.com    probe1     s3cret
//
// One entry per line: the domain and the username, each followed by spaces
// or tabs, then the password, which is the rest of the line (it may contain
// spaces; blanks around it are not part of it). '#' starts a comment line.
// Passwords are never logged or echoed in errors. Immutable after loading;
// thread-safe.
#ifndef SIPRESOLVER_LIB_HEALTH_CREDENTIALS_H_
#define SIPRESOLVER_LIB_HEALTH_CREDENTIALS_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

class CredentialStore {
 public:
  CredentialStore() = default;
  // INVALID_ARGUMENT naming the line (not its content) for a bad line or a
  // domain given twice; NOT_FOUND if the file cannot be read.
  static absl::StatusOr<CredentialStore> Parse(absl::string_view text);
  static absl::StatusOr<CredentialStore> LoadFile(const std::string& path);

  // The credentials for `domain` (normalised), if any.
  std::optional<sip::Credentials> Find(absl::string_view domain) const;
  size_t size() const { return by_domain_.size(); }

 private:
  absl::flat_hash_map<std::string, sip::Credentials> by_domain_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_CREDENTIALS_H_
