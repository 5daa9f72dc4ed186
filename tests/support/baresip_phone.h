// BaresipPhone: a real SIP phone for tests and benchmarks: baresip 1.0
// (Debian baresip-core), headless, on loopback, with a config of its own and
// no account until one is added over its ctrl_tcp control socket (netstring
// JSON commands such as uanew and uadel). Killed with its test.
#ifndef SIPRESOLVER_TESTS_SUPPORT_BARESIP_PHONE_H_
#define SIPRESOLVER_TESTS_SUPPORT_BARESIP_PHONE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

class BaresipPhone {
 public:
  // Resolves through the DNS server on 127.0.0.1:dns_port.
  static absl::StatusOr<std::unique_ptr<BaresipPhone>> Start(uint16_t dns_port);

  // "127.0.0.1:PORT" of ctrl_tcp.
  const std::string& ctrl_address() const { return ctrl_address_; }
  // A file in the phone's own directory (e.g. for a password).
  std::string File(const std::string& name) const { return dir_.File(name); }
  // Runs a ctrl_tcp command; its response's data, or an error naming it.
  absl::StatusOr<std::string> Command(const std::string& name,
                                      const std::string& params) const;
  std::string Output() const { return process_->Output(); }

 private:
  BaresipPhone() = default;
  TempDir dir_;
  uint16_t ctrl_port_ = 0;
  std::string ctrl_address_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_BARESIP_PHONE_H_
