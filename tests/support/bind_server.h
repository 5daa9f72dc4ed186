// BindServer: a real authoritative DNS server, BIND 9.18 (`named` from
// Debian's bind9), on 127.0.0.1 (UDP and TCP) with one zone whose records
// the test writes as zone-file lines. Unlike dnsmasq it answers as an ITSP's
// authoritative server does: an SRV answer carries its in-zone targets'
// addresses in the additional section, each with its own TTL; negative
// answers carry the zone's SOA (RFC 2308).
//
// named runs in the foreground (-g), as the test's own user, with its
// working files in a temporary directory: no rndc control channel, no
// recursion, no DNSSEC validation. Nothing of the Debian package's service
// (port 53, /etc/bind) is used or disturbed.
//
// Thread-compatible. Start it on the test's own thread.
#ifndef SIPRESOLVER_TESTS_SUPPORT_BIND_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_BIND_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/child_process.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

struct BindZone {
  std::string origin = "test";  // The zone's name.
  // The SOA's own TTL and MINIMUM: the negative TTL (RFC 2308).
  uint32_t negative_ttl = 30;
  uint32_t default_ttl = 60;  // $TTL, for records without one.
  // Zone-file lines relative to the origin, e.g. "rg 40 IN SRV 10 10 7100
  // rgt" or "rgt 6 IN A 10.77.3.1". The fixture adds the SOA and NS.
  std::vector<std::string> records;
};

class BindServer {
 public:
  // Starts named on a free port of 127.0.0.1 and waits, at most 10 s, until
  // it answers. INVALID_ARGUMENT for a record line with a line break; the
  // error includes named's log when the zone does not load.
  static absl::StatusOr<std::unique_ptr<BindServer>> Start(
      const BindZone& zone);

  ~BindServer();  // Stops named and removes the directory.
  BindServer(const BindServer&) = delete;
  BindServer& operator=(const BindServer&) = delete;

  // "127.0.0.1:PORT", as ares_set_servers_ports_csv takes it.
  std::string address() const;
  uint16_t port() const { return port_; }

  // Serves `zone` instead: stops named and starts it again on the same
  // port (about a second), as an ITSP's zone change would look from outside.
  absl::Status Restart(const BindZone& zone);
  void Stop() { process_.Stop(); }

  std::string ReadLog() const { return log_.Read(); }  // named's stderr.

 private:
  explicit BindServer(TempDir dir);
  absl::Status WriteFiles(const BindZone& zone);
  absl::Status Launch();

  TempDir dir_;
  LogFile log_;
  uint16_t port_ = 0;
  uint32_t serial_ = 1;
  ChildProcess process_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_BIND_SERVER_H_
