// TestPki: a throwaway certificate authority for TLS tests, made with the
// openssl CLI in a temporary directory: a CA, and server or client
// certificates it signs (EC P-256, valid two days).
#ifndef SIPRESOLVER_TESTS_SUPPORT_TEST_PKI_H_
#define SIPRESOLVER_TESTS_SUPPORT_TEST_PKI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sipresolver::testing {

struct IssuedCertificate {
  std::string cert_file;  // PEM.
  std::string key_file;   // PEM, unencrypted.
};

class TestPki {
 public:
  enum class Usage { kServer, kClient };

  // A new CA named `name` in a fresh temporary directory.
  static absl::StatusOr<std::unique_ptr<TestPki>> Create(
      const std::string& name = "sipresolver test CA");
  ~TestPki();  // Removes the directory.

  // A certificate for `subject_alt_names` ("DNS:localhost", "IP:127.0.0.1").
  absl::StatusOr<IssuedCertificate> Issue(
      const std::string& file_stem,
      const std::vector<std::string>& subject_alt_names,
      Usage usage = Usage::kServer);
  const std::string& ca_file() const { return ca_file_; }
  const std::string& dir() const { return dir_; }

 private:
  TestPki() = default;
  std::string dir_;
  std::string ca_file_;
  std::string ca_key_;
};

// Runs the openssl CLI (/usr/bin/openssl) with `args`; its output is in the
// error. With `new_key`, the command also makes an EC P-256 key there
// (quick, and fine for TLS 1.2+).
absl::Status RunOpenssl(std::vector<std::string> args,
                        const std::string& new_key = "");

// Reads a whole file ("" when it cannot).
std::string ReadFile(const std::string& path);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_TEST_PKI_H_
