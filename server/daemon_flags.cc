// sipresolverd's flags and their mapping onto DaemonConfig.
#include "server/daemon_flags.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "server/etcd/replica_session.h"

ABSL_FLAG(std::string, listen, "[::]:50051", "gRPC listen address, HOST:PORT.");
ABSL_FLAG(std::string, metrics_listen, "[::]:9464",
          "Prometheus /metrics listen address, HOST:PORT or [IPV6]:PORT; "
          "[::] is every address, IPv4 ones too (only those where the "
          "machine has no IPv6).");
ABSL_FLAG(std::string, dns_servers, "",
          "DNS servers as HOST:PORT[,HOST:PORT...] (IPv6 as [ADDR]:PORT); "
          "empty uses the system's /etc/resolv.conf.");
ABSL_FLAG(absl::Duration, dns_timeout, absl::Seconds(2),
          "Time to wait for a DNS answer before retrying (c-ares timeout).");
ABSL_FLAG(int, dns_tries, 2, "DNS attempts per server before giving up.");
ABSL_FLAG(absl::Duration, cache_min_ttl, absl::ZeroDuration(),
          "Answers are cached at least this long, whatever their TTL.");
ABSL_FLAG(absl::Duration, cache_max_ttl, absl::Hours(1),
          "Answers are cached at most this long, whatever their TTL.");
ABSL_FLAG(absl::Duration, cache_negative_ttl, absl::Seconds(30),
          "How long NXDOMAIN/NODATA is cached when the answer has no SOA.");
ABSL_FLAG(absl::Duration, cache_max_negative_ttl, absl::Minutes(5),
          "Upper bound on caching NXDOMAIN/NODATA (RFC 2308 SOA TTL).");
ABSL_FLAG(absl::Duration, cache_max_stale, absl::Hours(1),
          "How long past its TTL a cached answer is still served when the "
          "DNS server fails (0 disables serving stale).");
ABSL_FLAG(int, cache_max_entries, 10000, "Maximum DNS cache entries.");
ABSL_FLAG(int, max_pending_resolves, 10000,
          "Resolve calls waiting on DNS at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, resolve_snapshot_age, absl::Milliseconds(250),
          "A Resolve asked again within this long is answered from the last "
          "resolution without a trip through the event loop, each answer "
          "in an RFC 2782 weighted order of its own (0 turns it off); the "
          "health in an answer is at most this old. At most 10s.");
ABSL_FLAG(double, max_reports_per_minute, 60,
          "ReportObservation calls per minute per client (its certificate "
          "identity under mutual TLS, else its IPv4 address or IPv6 /64).");
ABSL_FLAG(absl::Duration, max_stream_write_stall, absl::Seconds(90),
          "Cut off a WatchDecision agent that has taken no message for this "
          "long (it stopped reading); its memory stays bounded meanwhile.");
ABSL_FLAG(int, max_request_bytes, 64 * 1024,
          "Largest request message accepted.");
ABSL_FLAG(std::string, probe_allow, "",
          "Where SIP probes may go: CIDR|DOMAIN[:PORTS][,...], PORTS being "
          "PORT or FIRST-LAST (an IPv6 CIDR with ports in brackets: "
          "[2001:db8::/32]:5060; no ports: all). A domain admits the public "
          "addresses its name resolves to; loopback, private and link-local "
          "addresses need a CIDR. Empty: nothing is probed.");
ABSL_FLAG(absl::Duration, probe_interval, absl::Seconds(2),
          "Time between probes of an endpoint (+/-10% jitter).");
ABSL_FLAG(absl::Duration, probe_edge_interval, absl::ZeroDuration(),
          "Delay before the probes that confirm a pending health change "
          "(a miss, or a success while unhealthy). 0: at once.");
ABSL_FLAG(absl::Duration, probe_timeout, absl::Seconds(2),
          "Ceiling of the wait for an answer: a probe transaction without a "
          "final response by then ends (Timer F; UDP retransmits from 500ms "
          "doubling up to 4s), and the most an endpoint's RTO may grow to.");
ABSL_FLAG(absl::Duration, probe_min_rto, absl::Milliseconds(50),
          "Floor of an endpoint's RTO (SRTT + 4 RTTVAR of its own answers, "
          "RFC 6298): a probe unanswered after the RTO is a miss, confirmed "
          "at once by follow-up probes.");
ABSL_FLAG(std::string, probe_tls_ca_file, "",
          "PEM file of CAs trusted for TLS probes besides the system store.");
ABSL_FLAG(bool, probe_tls_verify, true,
          "Verify TLS probe targets' certificates and names (the configured "
          "server name). Turn off only for lab servers.");
ABSL_FLAG(int, probe_healthy_threshold, 2,
          "Consecutive successes that make an unhealthy endpoint healthy.");
ABSL_FLAG(int, probe_unhealthy_threshold, 4,
          "Consecutive misses (no answer within the RTO) that make a healthy "
          "endpoint unhealthy; after the first, the rest are probed at once "
          "(an error reply or network error marks it down at once).");
ABSL_FLAG(std::string, probe_method, "register",
          "register (S6: can a device register?) or options.");
ABSL_FLAG(std::string, probe_accept_codes, "401,407",
          "Response codes besides 2xx that mean working when probing "
          "without credentials.");
ABSL_FLAG(std::string, probe_credentials_file, "",
          "File of \"DOMAIN USERNAME PASSWORD\" lines: probes for DOMAIN "
          "register for real and only a 2xx counts. Never logged. Read "
          "again every --tls_reload_interval.");
ABSL_FLAG(absl::Duration, probe_register_expires, absl::Seconds(60),
          "Expires of probe REGISTERs: their bindings lapse by themselves.");
ABSL_FLAG(std::string, probe_user_agent, "sipresolver-probe/1",
          "User-Agent header of every probe, so that an ITSP can recognise "
          "and allowlist the prober. Empty: no header. Printable ASCII, at "
          "most 128 characters.");
ABSL_FLAG(std::string, probe_from_user, "sipresolver-probe",
          "From/To user of probes for domains without credentials (with "
          "credentials it is the username). A SIP user part (RFC 3261), 1 to "
          "128 characters.");
ABSL_FLAG(double, probe_rate_limit, 50,
          "Probes started per second, all endpoints together.");
ABSL_FLAG(absl::Duration, probe_idle_timeout, absl::Minutes(10),
          "Keep probing an endpoint this long after the last watcher that "
          "needed it ended.");
ABSL_FLAG(int, probe_max_endpoints, 1000, "Endpoints probed at most.");
ABSL_FLAG(int, probe_max_endpoints_per_domain, 32,
          "Endpoints probed at most for one configured server name (IP "
          "literals count only in --probe_max_endpoints).");
ABSL_FLAG(int, device_evidence_quorum, 3,
          "Fail static: distinct agents (each its own client: certificate "
          "identity under mutual TLS, else address) whose "
          "reported registrations make an endpoint count as working while its "
          "probes fail, and whose failures confirm the probes'. At least 2: "
          "one agent never steers another's decision.");
ABSL_FLAG(absl::Duration, device_evidence_window, absl::Minutes(10),
          "How long a reported registration counts as device evidence.");
ABSL_FLAG(int, probe_panic_threshold, 50,
          "Fail static: below this percentage of probed endpoints healthy, "
          "with failures in --probe_panic_min_domains names or more, the "
          "service suspects its own probe path and every decision falls back "
          "to the device's own order. 0 turns it off.");
ABSL_FLAG(
    int, probe_panic_min_domains, 2,
    "Names (an IP literal is one) whose endpoints must fail before the "
    "panic threshold applies: one ITSP's outage is not a broken probe path.");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(30),
          "WatchDecision: a heartbeat message after this long without one.");
ABSL_FLAG(absl::Duration, search_break, absl::Seconds(30),
          "S7: the break before searching again when no server works.");
ABSL_FLAG(absl::Duration, watcher_idle_grace, absl::Seconds(30),
          "Keep a profile's watcher (DNS, probes) this long after its last "
          "agent left.");
ABSL_FLAG(int, max_watchers, 1000, "Distinct profiles watched at most.");
ABSL_FLAG(int, max_streams, 20000, "WatchDecision streams open at most.");
ABSL_FLAG(int, max_streams_per_connection, 1000,
          "WatchDecision streams open at most on one client connection.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain for TLS on --listen (with --tls_key_file). "
          "Re-read when it changes (see --tls_reload_interval).");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key for --tls_cert_file.");
ABSL_FLAG(
    std::string, tls_client_ca_file, "",
    "Mutual TLS: clients must present a certificate signed by these CAs.");
ABSL_FLAG(std::string, operator_identities, "",
          "Mutual TLS: client certificate identities (SAN, else CN) that may "
          "also call ListServers and use reflection, comma-separated, '*' "
          "matching any characters (ops-*.example.com). Every other client "
          "is an agent: Resolve, WatchDecision, ReportObservation. Without "
          "mutual TLS every client may do everything.");
ABSL_FLAG(bool, reflection, true,
          "Serve gRPC server reflection (grpcurl without the .proto files); "
          "operators only under mutual TLS.");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Minutes(1),
          "How often the TLS files and --probe_credentials_file are read "
          "again (a rotated Secret needs no restart).");
ABSL_FLAG(
    std::string, health_listen, "",
    "Extra plaintext gRPC port serving only grpc.health.v1.Health "
    "(for Kubernetes probes when --listen uses TLS, which their gRPC probes "
    "cannot verify or, with mutual TLS, present a certificate for). Empty: "
    "none.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(1),
          "Ping idle client connections after this; drop them if no answer.");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "Time a keepalive ping has to be answered.");
ABSL_FLAG(absl::Duration, min_client_ping_interval, absl::Seconds(10),
          "Agents may send keepalive pings this often (even without calls).");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Close client connections after this age (+/-10% jitter) so "
          "long-lived streams rebalance onto new replicas; 0 = never.");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(1),
          "Time streams get to end after --max_connection_age.");
ABSL_FLAG(absl::Duration, shutdown_drain_delay, absl::ZeroDuration(),
          "On SIGTERM, time between reporting NOT_SERVING and ending streams, "
          "for load balancers to notice.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT, time in-flight calls get before cancellation.");
ABSL_FLAG(std::string, etcd_endpoints, "",
          "etcd members to share probing with the other replicas through, "
          "HOST:PORT or several IP:PORT, comma-separated. Empty: this "
          "replica works alone.");
ABSL_FLAG(std::string, etcd_prefix, "/sipresolver/",
          "Prefix of every key the fleet keeps in etcd (one per fleet "
          "sharing an etcd); ends with '/'.");
ABSL_FLAG(std::string, replica_id, "",
          "This replica's name in etcd, unique among live replicas. Empty: "
          "the host name (the pod name in Kubernetes).");
ABSL_FLAG(int, probe_owners, 2,
          "With --etcd_endpoints: replicas that probe each endpoint, taking "
          "turns so that together they send one probe per --probe_interval; "
          "the others take over their verdicts. Two keep a second vantage "
          "point and a survivor while etcd is down.");
ABSL_FLAG(absl::Duration, etcd_lease_ttl, absl::Seconds(5),
          "How long a replica that stopped (or lost etcd) stays listed.");
ABSL_FLAG(std::string, etcd_tls_ca_file, "",
          "PEM CA file to verify etcd with; any --etcd_tls_* flag turns TLS "
          "to etcd on (without this one: the system CAs).");
ABSL_FLAG(std::string, etcd_tls_cert_file, "",
          "PEM client certificate for etcd (mutual TLS), with "
          "--etcd_tls_key_file; re-read every --tls_reload_interval.");
ABSL_FLAG(std::string, etcd_tls_key_file, "",
          "PEM private key of --etcd_tls_cert_file.");
ABSL_FLAG(std::string, dns_face_socket, "",
          "Unix socket to serve the DNS face on, as PowerDNS's remote "
          "backend (remote-connection-string=unix:path=PATH); with "
          "--dns_face_config. Empty: no DNS face. docs/dns-face.md.");
ABSL_FLAG(std::string, dns_face_config, "",
          "JSON file of the DNS face's zones and provisioned names "
          "(proto/sipresolver/v1/dns_face.proto); read at start.");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines on stderr: text (a timestamp and the message with "
          "key=value fields) or json (one JSON object per line: time in "
          "RFC 3339, severity, message and the fields, for Loki, "
          "Elasticsearch or Cloud Logging).");

namespace sipresolver::server {
namespace {

// "401,407" -> {401, 407}; empty string on success, else the problem.
std::string ParseCodes(absl::string_view text, std::set<int>& codes) {
  for (absl::string_view item :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int code = 0;
    if (!absl::SimpleAtoi(item, &code) || code < 100 || code > 699) {
      return absl::StrCat("--probe_accept_codes: \"", item,
                          "\" is not a SIP response code");
    }
    codes.insert(code);
  }
  return "";
}

// The probe's identity is what an ITSP's allowlist or fail2ban filter
// matches on. Both values go into header lines: nothing may end a line (CR,
// LF) or make the request unparsable, and the user must be a valid URI user.
std::string CheckProbeIdentity(const sip::ProberOptions& o) {
  constexpr size_t kMaxLength = 128;
  bool ok = o.user_agent.size() <= kMaxLength;
  for (char c : o.user_agent) ok = ok && c >= 0x20 && c <= 0x7e;
  if (!ok) {
    return absl::StrCat(
        "--probe_user_agent: \"", absl::CHexEscape(o.user_agent),
        "\" must be printable ASCII (no CR, LF or other control characters), "
        "at most 128 characters");
  }
  // RFC 3261 25.1: user = 1*( unreserved / escaped / user-unreserved ).
  const std::string& user = o.user;
  ok = !user.empty() && user.size() <= kMaxLength;
  for (size_t i = 0; ok && i < user.size(); ++i) {
    if (user[i] == '%') {  // escaped = "%" HEXDIG HEXDIG
      ok = i + 2 < user.size() && absl::ascii_isxdigit(user[i + 1]) &&
           absl::ascii_isxdigit(user[i + 2]);
      i += 2;
    } else {
      ok = absl::ascii_isalnum(user[i]) ||
           absl::string_view("-_.!~*'()&=+$,;?/").find(user[i]) !=
               absl::string_view::npos;
    }
  }
  if (!ok) {
    return absl::StrCat("--probe_from_user: \"", absl::CHexEscape(user),
                        "\" is not a SIP user part (RFC 3261: 1 to 128 "
                        "letters, digits, -_.!~*'()&=+$,;?/ or %XX escapes)");
  }
  return "";
}

std::string FailStaticFlags(health::HealthOptions& h) {
  h.evidence.quorum = absl::GetFlag(FLAGS_device_evidence_quorum);
  h.evidence.window = absl::GetFlag(FLAGS_device_evidence_window);
  const int threshold = absl::GetFlag(FLAGS_probe_panic_threshold);
  h.panic_threshold = threshold / 100.0;
  h.panic_min_domains = absl::GetFlag(FLAGS_probe_panic_min_domains);
  if (h.evidence.quorum < 2 || h.evidence.quorum > 1000) {
    return "--device_evidence_quorum must be between 2 and 1000 (one agent "
           "alone "
           "must never steer the others)";
  }
  if (h.evidence.window < absl::Seconds(1) ||
      h.evidence.window > absl::Hours(24)) {
    return "--device_evidence_window must be between 1s and 24h";
  }
  if (threshold < 0 || threshold > 100) {
    return "--probe_panic_threshold must be a percentage, 0 to 100";
  }
  if (h.panic_min_domains < 2) {
    return "--probe_panic_min_domains must be >= 2 (one name failing is that "
           "ITSP's outage, not the service's probe path)";
  }
  return "";
}

std::string ProbeFlags(ProbeConfig& p) {
  p.allow = absl::GetFlag(FLAGS_probe_allow);
  p.rate_limit = absl::GetFlag(FLAGS_probe_rate_limit);
  p.credentials_file = absl::GetFlag(FLAGS_probe_credentials_file);
  p.credentials_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  p.health.intervals.interval = absl::GetFlag(FLAGS_probe_interval);
  p.health.intervals.edge_interval = absl::GetFlag(FLAGS_probe_edge_interval);
  p.health.thresholds.healthy = absl::GetFlag(FLAGS_probe_healthy_threshold);
  p.health.thresholds.unhealthy =
      absl::GetFlag(FLAGS_probe_unhealthy_threshold);
  p.health.register_expires = absl::GetFlag(FLAGS_probe_register_expires);
  p.health.idle_timeout = absl::GetFlag(FLAGS_probe_idle_timeout);
  p.health.max_endpoints =
      std::max(0, absl::GetFlag(FLAGS_probe_max_endpoints));
  p.health.max_endpoints_per_domain =
      std::max(0, absl::GetFlag(FLAGS_probe_max_endpoints_per_domain));
  p.prober.timeout = absl::GetFlag(FLAGS_probe_timeout);
  p.health.rto.max_rto = p.prober.timeout;
  p.health.rto.min_rto = absl::GetFlag(FLAGS_probe_min_rto);
  p.prober.tls_ca_file = absl::GetFlag(FLAGS_probe_tls_ca_file);
  p.prober.tls_verify = absl::GetFlag(FLAGS_probe_tls_verify);
  p.prober.user_agent = absl::GetFlag(FLAGS_probe_user_agent);
  p.prober.user = absl::GetFlag(FLAGS_probe_from_user);
  if (std::string bad = CheckProbeIdentity(p.prober); !bad.empty()) return bad;
  const std::string method = absl::GetFlag(FLAGS_probe_method);
  if (method != "register" && method != "options") {
    return "--probe_method must be register or options";
  }
  p.health.use_options = method == "options";
  p.health.accepted.without_credentials.clear();
  if (std::string bad = ParseCodes(absl::GetFlag(FLAGS_probe_accept_codes),
                                   p.health.accepted.without_credentials);
      !bad.empty()) {
    return bad;
  }
  if (p.health.intervals.interval <= absl::ZeroDuration() ||
      p.prober.timeout <= absl::ZeroDuration()) {
    return "--probe_interval and --probe_timeout must be > 0";
  }
  if (p.health.intervals.edge_interval < absl::ZeroDuration()) {
    return "--probe_edge_interval must be >= 0";
  }
  if (p.health.rto.min_rto <= absl::ZeroDuration() ||
      p.health.rto.min_rto > p.prober.timeout) {
    return absl::StrCat(
        "--probe_min_rto must be > 0 and at most "
        "--probe_timeout (",
        absl::FormatDuration(p.prober.timeout), "), got ",
        absl::FormatDuration(p.health.rto.min_rto));
  }
  if (p.health.thresholds.healthy < 1 || p.health.thresholds.unhealthy < 1) {
    return "probe thresholds must be >= 1";
  }
  if (p.health.register_expires < absl::Seconds(1)) {
    return "--probe_register_expires must be >= 1s";
  }
  return FailStaticFlags(p.health);
}

std::string FleetFlags(FleetConfig& f) {
  f.etcd_endpoints = absl::GetFlag(FLAGS_etcd_endpoints);
  f.session.prefix = absl::GetFlag(FLAGS_etcd_prefix);
  f.session.replica_id = absl::GetFlag(FLAGS_replica_id);
  f.session.lease_ttl = absl::GetFlag(FLAGS_etcd_lease_ttl);
  f.probe_owners = absl::GetFlag(FLAGS_probe_owners);
  if (f.probe_owners < 1) return "--probe_owners must be >= 1";
  f.etcd_tls.ca_file = absl::GetFlag(FLAGS_etcd_tls_ca_file);
  f.etcd_tls.cert_file = absl::GetFlag(FLAGS_etcd_tls_cert_file);
  f.etcd_tls.key_file = absl::GetFlag(FLAGS_etcd_tls_key_file);
  f.etcd_tls.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  if (f.session.replica_id.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
      return "--replica_id: empty, and the host name cannot be read";
    }
    f.session.replica_id = host;
  }
  if (f.etcd_endpoints.empty()) return "";
  if (absl::Status s = etcd::ReplicaSession::Validate(f.session); !s.ok()) {
    return absl::StrCat("--", s.message());
  }
  return "";
}

std::string WatchFlags(WatchOptions& w) {
  w.heartbeat = absl::GetFlag(FLAGS_heartbeat_interval);
  w.idle_grace = absl::GetFlag(FLAGS_watcher_idle_grace);
  w.engine.search_break = absl::GetFlag(FLAGS_search_break);
  w.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  w.max_streams = absl::GetFlag(FLAGS_max_streams);
  w.max_streams_per_peer = absl::GetFlag(FLAGS_max_streams_per_connection);
  if (w.heartbeat < absl::Seconds(1))
    return "--heartbeat_interval must be >= 1s";
  if (w.idle_grace < absl::ZeroDuration())
    return "--watcher_idle_grace must be >= 0";
  if (w.engine.search_break < absl::Seconds(1))
    return "--search_break must be >= 1s";
  if (w.max_watchers < 1 || w.max_streams < 1 || w.max_streams_per_peer < 1) {
    return "--max_watchers, --max_streams and --max_streams_per_connection "
           "must be >= 1";
  }
  return "";
}

// Bad flag values are usage errors, caught before anything starts.
std::string CheckConfig(const DaemonConfig& c) {
  if (c.dns.timeout <= absl::ZeroDuration()) return "--dns_timeout must be > 0";
  if (c.dns.tries < 1) return "--dns_tries must be >= 1";
  if (c.cache.min_ttl < absl::ZeroDuration() ||
      c.cache.max_ttl < c.cache.min_ttl) {
    return "--cache_min_ttl must be >= 0 and <= --cache_max_ttl";
  }
  if (c.cache.default_negative_ttl < absl::ZeroDuration() ||
      c.cache.max_negative_ttl < absl::ZeroDuration() ||
      c.cache.max_stale < absl::ZeroDuration()) {
    return "cache durations must not be negative";
  }
  const ConnectionPolicy& p = c.connections;
  if (p.keepalive_time < absl::Seconds(1) ||
      p.keepalive_timeout < absl::Seconds(1) ||
      p.min_client_ping_interval < absl::ZeroDuration() ||
      p.max_connection_age < absl::ZeroDuration() ||
      p.max_connection_age_grace < absl::ZeroDuration()) {
    return "keepalive and connection age durations must be positive";
  }
  if (c.shutdown_drain_delay < absl::ZeroDuration() ||
      c.tls.reload_interval < absl::Seconds(1)) {
    return "--shutdown_drain_delay must be >= 0 and --tls_reload_interval >= "
           "1s";
  }
  if (c.service.max_stream_write_stall < absl::Seconds(1)) {
    return "--max_stream_write_stall must be >= 1s";
  }
  if (!(c.service.max_reports_per_minute >= 1))
    return "--max_reports_per_minute must be >= 1";
  if (c.service.resolve_snapshot_age < absl::ZeroDuration() ||
      c.service.resolve_snapshot_age > absl::Seconds(10))
    return "--resolve_snapshot_age must be between 0 and 10s";
  if (c.service.max_pending_resolves < 1)
    return "--max_pending_resolves must be >= 1";
  if (c.cache.max_entries < 1) return "--cache_max_entries must be >= 1";
  if (c.max_request_bytes < 1024) return "--max_request_bytes must be >= 1024";
  return "";
}

}  // namespace

absl::StatusOr<DaemonConfig> DaemonConfigFromFlags() {
  DaemonConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.dns.servers = absl::GetFlag(FLAGS_dns_servers);
  config.dns.timeout = absl::GetFlag(FLAGS_dns_timeout);
  config.dns.tries = absl::GetFlag(FLAGS_dns_tries);
  config.cache.min_ttl = absl::GetFlag(FLAGS_cache_min_ttl);
  config.cache.max_ttl = absl::GetFlag(FLAGS_cache_max_ttl);
  config.cache.default_negative_ttl = absl::GetFlag(FLAGS_cache_negative_ttl);
  config.cache.max_negative_ttl = absl::GetFlag(FLAGS_cache_max_negative_ttl);
  config.cache.max_stale = absl::GetFlag(FLAGS_cache_max_stale);
  const int cache_entries = absl::GetFlag(FLAGS_cache_max_entries);
  config.cache.max_entries = static_cast<size_t>(std::max(0, cache_entries));
  config.service.max_pending_resolves =
      absl::GetFlag(FLAGS_max_pending_resolves);
  config.service.resolve_snapshot_age =
      absl::GetFlag(FLAGS_resolve_snapshot_age);
  config.service.max_reports_per_minute =
      absl::GetFlag(FLAGS_max_reports_per_minute);
  config.service.max_stream_write_stall =
      absl::GetFlag(FLAGS_max_stream_write_stall);
  config.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  config.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  config.shutdown_drain_delay = absl::GetFlag(FLAGS_shutdown_drain_delay);
  config.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  config.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  config.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  config.tls.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  config.health_listen = absl::GetFlag(FLAGS_health_listen);
  auto roles = RolePolicy::Parse(absl::GetFlag(FLAGS_operator_identities));
  if (!roles.ok()) return roles.status();
  if (!roles->patterns().empty() && config.tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "operator_identities: needs mutual TLS (--tls_client_ca_file); "
        "without it no client has a certificate identity and every client "
        "may list servers");
  }
  config.roles = *std::move(roles);
  config.reflection = absl::GetFlag(FLAGS_reflection);
  ConnectionPolicy& c = config.connections;
  c.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  c.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  c.min_client_ping_interval = absl::GetFlag(FLAGS_min_client_ping_interval);
  c.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  c.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  auto log_format = ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) return log_format.status();
  config.log_format = *log_format;
  config.dns_face.socket_path = absl::GetFlag(FLAGS_dns_face_socket);
  config.dns_face.config_file = absl::GetFlag(FLAGS_dns_face_config);
  if (config.dns_face.socket_path.empty() !=
      config.dns_face.config_file.empty()) {
    return absl::InvalidArgumentError(
        "dns_face_socket and dns_face_config: set both or neither");
  }
  std::string bad = ProbeFlags(config.probe);
  if (bad.empty()) bad = WatchFlags(config.watch);
  if (bad.empty()) bad = FleetFlags(config.fleet);
  if (bad.empty()) bad = CheckConfig(config);
  if (!bad.empty()) return absl::InvalidArgumentError(bad);
  return config;
}

}  // namespace sipresolver::server
