// PowerDnsServer: a real PowerDNS Authoritative Server 4.7.3 (Debian 12
// pdns-server 4.7.3 + pdns-backend-remote, /usr/sbin/pdns_server) on
// 127.0.0.1 (UDP and TCP), launched with the remote backend only: every
// answer comes from the process listening on PowerDnsOptions::backend_socket
// (sipresolverd's DNS face, or a test's fake), which PowerDNS speaks to in
// JSON lines (one request object a line, one {"result": ...} reply a line).
//
// How PowerDNS 4.7.3 behaves here (pinned by powerdns_server_test.cc):
//  - It listens, and answers version.bind CH TXT itself, whether or not the
//    backend is up; a query that needs the backend while nothing accepts on
//    the socket gets SERVFAIL. Each backend connection (one per backend
//    thread, kept open) begins with {"method":"initialize",...}; then a
//    query for NAME costs a "lookup" of qtype SOA for NAME and each parent
//    until one has an SOA (the zone; with zone-cache-refresh-interval=0
//    there is no zone cache), then "lookup"s of qtype ANY, of NAME and, for
//    an SRV answer, of its in-zone targets (their A/AAAA go in the
//    additional section). Other methods (getAllDomainMetadata, ...) want
//    {"result":false}.
//  - A name outside every zone is REFUSED. In a zone: a name the backend
//    has no record for is NXDOMAIN with AA and the SOA in the authority
//    section; a name whose ANY lookup returns only {"qtype":"ENT"}, or that
//    has records but none of the type asked, is NOERROR/NODATA (AA, SOA).
//  - A reply without "result" ({"error":"x"}) and a backend that does not
//    answer within the timeout of remote-connection-string both give SERVFAIL
//    (the latter once the timeout has passed); the next query is served
//    normally.
//  - The records of one RRset are shuffled: each answer built from the
//    backend has its own random order (a packet-cache hit repeats the cached
//    one), so the backend's order is not kept, unless PowerDnsOptions::
//    shuffle = false (no-shuffle=yes), which keeps it.
//  - cache-ttl is the packet cache: with cache-ttl=1 a changed backend
//    answer showed after 1.0 to 1.8 s on a query every 50 ms (not 1 s
//    sharp). Purge() makes it show at once, even with a long cache-ttl.
//  - It exits on SIGTERM.
//
// pdns_server runs in the foreground (daemon=no, guardian=no), as the test's
// own user (no setuid/setgid in its configuration, so PR_SET_PDEATHSIG stays),
// with its configuration and control socket in a temporary directory; it logs
// to stderr (disable-syslog), which goes to log_path(). Nothing of the Debian
// package's service (/etc/powerdns, port 53) is used or disturbed.
//
// Thread-compatible. Start it on the test's own thread.
#ifndef SIPRESOLVER_TESTS_SUPPORT_POWERDNS_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_POWERDNS_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

struct PowerDnsOptions {
  // The remote backend's unix socket (remote-connection-string=unix:path=).
  // Need not exist yet: PowerDNS connects on its first query.
  std::string backend_socket;
  // How long PowerDNS waits for one backend reply (the ",timeout=" of the
  // connection string, whole milliseconds) before answering SERVFAIL.
  absl::Duration backend_timeout = absl::Milliseconds(2000);
  // The caches, by default as the product recommends them: a packet cache of
  // 1 s, no query cache for positive answers, 1 s for negative ones, no zone
  // cache (the zone is found by SOA lookups on every miss).
  uint32_t cache_ttl = 1;
  uint32_t query_cache_ttl = 0;
  uint32_t negquery_cache_ttl = 1;
  uint32_t zone_cache_refresh_interval = 0;
  // PowerDNS's default; false writes no-shuffle=yes (RRsets in the
  // backend's order).
  bool shuffle = true;
  // Appended verbatim to pdns.conf (later lines win over the ones above).
  std::vector<std::string> extra_lines;
};

class PowerDnsServer {
 public:
  // Starts pdns_server on a free port of 127.0.0.1 and waits, at most 10 s,
  // until it answers over UDP and listens on TCP (the backend need not be
  // up). INVALID_ARGUMENT for an empty backend_socket or a line break in an
  // option; the error includes pdns_server's log otherwise.
  static absl::StatusOr<std::unique_ptr<PowerDnsServer>> Start(
      const PowerDnsOptions& options);

  ~PowerDnsServer();  // Stops pdns_server and removes the directory.
  PowerDnsServer(const PowerDnsServer&) = delete;
  PowerDnsServer& operator=(const PowerDnsServer&) = delete;

  // "127.0.0.1:PORT", as ares_set_servers_ports_csv takes it.
  std::string address() const;
  uint16_t port() const { return port_; }

  // Drops `name`'s entries (that name only; trailing dot optional) from the
  // packet and query caches: `pdns_control --config-dir=DIR purge NAME$`.
  // The error holds pdns_control's output.
  absl::Status Purge(absl::string_view name) const;

  // SIGTERM, SIGKILL after 2 s; reaps. Idempotent.
  void Stop() { process_.Stop(); }
  bool running() const { return process_.running(); }

  // pdns_server's stdout and stderr (its log), for failure messages.
  std::string ReadLog() const { return log_.Read(); }
  const std::string& log_path() const { return log_.path(); }
  const std::string& config_dir() const { return dir_.path(); }

 private:
  explicit PowerDnsServer(TempDir dir);
  absl::Status WriteConfig(const PowerDnsOptions& options);
  absl::Status Launch();

  TempDir dir_;
  LogFile log_;
  uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_POWERDNS_SERVER_H_
