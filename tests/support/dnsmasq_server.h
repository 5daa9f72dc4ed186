// DnsmasqServer: a real dnsmasq (Debian 12 dnsmasq-base 2.90,
// /usr/sbin/dnsmasq) serving a small zone on 127.0.0.1 for integration tests.
//
// How dnsmasq 2.90 answers (pinned by dnsmasq_server_test.cc):
//  - Default mode (authoritative = false): positive answers have AA and RA;
//    TTL is DnsZone::ttl (local-ttl) unless a host or CNAME record sets its
//    own (SRV always uses DnsZone::ttl). A CNAME chain is answered whole, with
//    the final target's A/AAAA; an SRV answer carries, in the additional
//    section, the A and AAAA of every target that has a host record (nothing
//    for other targets). NXDOMAIN and NODATA answers are empty: no SOA, so no
//    negative TTL, and no AA. A name that owns any record, or is a parent of
//    one ("pbx.test" under "_sip._udp.pbx.test"), gives NODATA for other
//    types; every other name in `domain` gives NXDOMAIN. Names outside
//    `domain` (and outside the servfail/silent domains) are REFUSED.
//  - authoritative = true (auth-zone + auth-server on 127.0.0.1): every TTL
//    is DnsZone::ttl (per-record TTLs are ignored); NS in the authority
//    section of positive answers; SOA "ns.DOMAIN hostmaster.ns.DOMAIN ..."
//    with TTL = MINIMUM = DnsZone::ttl in NXDOMAIN and NODATA answers; no
//    additional section, even for SRV; only ONE CNAME is followed (a
//    CNAME -> CNAME -> A chain is answered with the first CNAME only).
//    NXDOMAIN / NODATA / REFUSED are decided as in the default mode.
//  - The order of records within an RRset changes from query to query.
//
// Every query dnsmasq receives is logged ("query[SRV] name from 127.0.0.1",
// or "auth[SRV] ..." in authoritative mode) with a plain write() before the
// answer is sent, so CountQueries() is exact as soon as a locally answered
// reply has arrived; WaitForQueries() covers the rest (queries that are
// forwarded, dropped, or sent while paused).
//
// Thread-compatible. The child gets SIGKILL if the thread that started it
// exits (PR_SET_PDEATHSIG), so no dnsmasq outlives a crashed test: create the
// server on the test's own thread.
#ifndef SIPRESOLVER_TESTS_SUPPORT_DNSMASQ_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_DNSMASQ_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
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

// A and/or AAAA (and PTR) records: one host-record=name,address[,ttl] line
// per address (a single line keeps only one IPv4 and one IPv6 address).
struct HostRecord {
  std::string name;
  std::vector<std::string> addresses;  // "192.0.2.1", "2001:db8::1", ...
  std::optional<uint32_t> ttl = std::nullopt;  // Default: DnsZone::ttl.
};

// srv-host=name,target,port,priority,weight. target "." publishes the RFC 2782
// "service not offered" record.
struct SrvHost {
  std::string name;  // e.g. "_sip._udp.pbx.test" or "pbx.test"
  std::string target;
  uint16_t port = 5060;
  uint16_t priority = 0;
  uint16_t weight = 0;
};

// cname=alias,target[,ttl]. A target without local records gives a
// CNAME-only NOERROR answer (dnsmasq does not look the target up elsewhere).
struct CnameRecord {
  std::string alias;
  std::string target;
  std::optional<uint32_t> ttl = std::nullopt;  // Default: DnsZone::ttl.
};

struct DnsZone {
  // local=/domain/: answered from the records below only, never forwarded
  // (except the servfail/silent domains).
  std::string domain = "test";
  uint32_t ttl = 60;  // local-ttl (and auth-ttl).
  // Serve the domain as an authoritative zone (SOA on negative answers).
  bool authoritative = false;
  std::vector<HostRecord> hosts;
  std::vector<SrvHost> srv;
  std::vector<CnameRecord> cnames;
  // Domains (sub-domains of `domain` or not) answered SERVFAIL: dnsmasq
  // forwards them (server=/d/...) to an upstream run by the fixture that
  // answers SERVFAIL, and passes that on without caching it. A name that has
  // a host record here still gets the types it has from dnsmasq; other
  // types go upstream. Not with authoritative = true (the auth engine never
  // forwards).
  std::vector<std::string> servfail_domains;
  // Domains whose UDP queries are never answered (the client times out):
  // dnsmasq forwards them to a socket that is never read. Same rules.
  // For both lists, a query over TCP gets its connection closed unanswered.
  std::vector<std::string> silent_domains;
  // Appended verbatim to the configuration file.
  std::vector<std::string> extra_lines;
};

class DnsmasqServer {
 public:
  // Starts dnsmasq on a free port of 127.0.0.1 (UDP and TCP) and waits, at
  // most 10 s, until it answers a query. The error includes dnsmasq's stderr.
  static absl::StatusOr<std::unique_ptr<DnsmasqServer>> Start(
      const DnsZone& zone);

  // Stops dnsmasq (see Stop) and removes the temporary directory.
  ~DnsmasqServer();
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  // "127.0.0.1:PORT", as ares_set_servers_ports_csv takes it.
  std::string address() const;
  uint16_t port() const { return port_; }

  // Stops dnsmasq and starts it again on the same port with `zone`.
  // The query log (and so CountQueries) carries over.
  absl::Status Restart(const DnsZone& zone);

  // SIGTERM (resuming it if paused), SIGKILL after 2 s; reaps the child.
  // Idempotent.
  void Stop();
  bool running() const { return process_.running(); }

  // SIGSTOP / SIGCONT. While paused, queries go unanswered; they queue in the
  // socket and are answered (late) after Resume().
  void Pause();
  void Resume();

  // Queries received for `name` (case-insensitive, trailing dot optional) of
  // `type` ("A", "AAAA", "SRV", ...) since start or ResetQueryCounts(). The
  // readiness probe sends "version.bind" TXT (class CHAOS).
  int CountQueries(absl::string_view name, absl::string_view type) const;
  // Waits until CountQueries(name, type) >= n, at most `timeout`.
  bool WaitForQueries(absl::string_view name, absl::string_view type, int n,
                      absl::Duration timeout = absl::Seconds(5)) const;
  // Later CountQueries calls ignore queries logged so far.
  void ResetQueryCounts();

  // For diagnostics.
  std::string ReadLog() const;
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_.path(); }

 private:
  class Upstream;  // The SERVFAIL and silent upstreams.

  explicit DnsmasqServer(TempDir dir);
  absl::Status WriteConfig(const DnsZone& zone);
  absl::Status Launch();  // Spawns dnsmasq and waits until it answers.

  TempDir dir_;
  std::string config_path_;
  LogFile log_;     // The query log (log-facility).
  LogFile stderr_;  // dnsmasq's stderr, all starts.
  uint16_t port_ = 0;
  ChildProcess process_;
  std::unique_ptr<Upstream> upstream_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_DNSMASQ_SERVER_H_
