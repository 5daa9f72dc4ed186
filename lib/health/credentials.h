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
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

class CredentialStore {
 public:
  CredentialStore() = default;
  // INVALID_ARGUMENT naming the line (not its content) for a bad line or a
  // domain given twice.
  static absl::StatusOr<CredentialStore> Parse(absl::string_view text);

  // The credentials for `domain` (normalised), if any.
  std::optional<sip::Credentials> Find(absl::string_view domain) const;
  size_t size() const { return by_domain_.size(); }

 private:
  absl::flat_hash_map<std::string, sip::Credentials> by_domain_;
};

// The credentials file, read again on request: a rotated Kubernetes Secret
// reaches the probes without a restart, as gRPC re-reads the TLS files. The
// content is compared, not the modification time (Kubernetes swaps a
// symlink). Not thread-safe.
class CredentialsFile {
 public:
  // Reads `path` now: NOT_FOUND if it cannot be read, else as
  // CredentialStore::Parse.
  static absl::StatusOr<CredentialsFile> Load(std::string path);

  // The credentials now in the file when they changed, nullopt when they did
  // not; an error (the line, never its content) when the file cannot be read
  // or parsed. Only a store returned here counts as read: after an error the
  // next call returns the file's credentials again if they are valid.
  absl::StatusOr<std::optional<CredentialStore>> Reload();

  const CredentialStore& store() const { return store_; }

 private:
  CredentialsFile(std::string path, std::string text, CredentialStore store)
      : path_(std::move(path)),
        text_(std::move(text)),
        store_(std::move(store)) {}

  std::string path_;
  std::string text_;  // What store_ was parsed from.
  CredentialStore store_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_CREDENTIALS_H_
