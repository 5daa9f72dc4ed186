#include "tests/support/test_pki.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {

absl::Status RunOpenssl(std::vector<std::string> args,
                        const std::string& new_key) {
  args.insert(args.begin(), "/usr/bin/openssl");
  if (!new_key.empty()) {
    args.insert(args.end(),
                {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", new_key});
  }
  CommandResult r = RunCommand(args, absl::Seconds(30));
  if (r.exit_status == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::StrJoin(args, " "), " failed: ", r.output));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::unique_ptr<TestPki>> TestPki::Create(
    const std::string& name) {
  std::unique_ptr<TestPki> pki(new TestPki());
  char dir[] = "/tmp/sipresolver-pki-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  pki->dir_ = dir;
  pki->ca_file_ = pki->dir_ + "/ca.pem";
  pki->ca_key_ = pki->dir_ + "/ca.key";
  if (absl::Status s =
          RunOpenssl({"req", "-x509", "-days", "2", "-subj",
                      absl::StrCat("/CN=", name), "-out", pki->ca_file_},
                     pki->ca_key_);
      !s.ok()) {
    return s;
  }
  return pki;
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<IssuedCertificate> TestPki::Issue(
    const std::string& file_stem,
    const std::vector<std::string>& subject_alt_names, Usage usage) {
  IssuedCertificate out{absl::StrCat(dir_, "/", file_stem, ".pem"),
                        absl::StrCat(dir_, "/", file_stem, ".key")};
  const std::string csr = absl::StrCat(dir_, "/", file_stem, ".csr");
  const std::string ext = absl::StrCat(dir_, "/", file_stem, ".ext");
  std::ofstream(ext, std::ios::trunc)
      << "basicConstraints=critical,CA:FALSE\n"
      << "keyUsage=critical,digitalSignature\n"
      << "extendedKeyUsage="
      << (usage == Usage::kServer ? "serverAuth" : "clientAuth") << "\n"
      << "subjectAltName=" << absl::StrJoin(subject_alt_names, ",") << "\n";
  if (absl::Status s =
          RunOpenssl({"req", "-new", "-subj", absl::StrCat("/CN=", file_stem),
                      "-out", csr},
                     out.key_file);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          RunOpenssl({"x509", "-req", "-in", csr, "-CA", ca_file_, "-CAkey",
                      ca_key_, "-CAcreateserial", "-days", "2", "-extfile", ext,
                      "-out", out.cert_file});
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace sipresolver::testing
