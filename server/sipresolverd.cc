// sipresolverd: the sipresolver gRPC service. Flags are documented by
// --help; everything else lives in Daemon.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/daemon.h"
#include "server/log.h"

ABSL_FLAG(std::string, listen, "[::]:50051", "gRPC listen address, HOST:PORT.");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9464",
          "Prometheus /metrics listen address, HOST:PORT.");
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
ABSL_FLAG(int, max_request_bytes, 64 * 1024,
          "Largest request message accepted.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT, time in-flight calls get before cancellation.");

namespace {

using sipresolver::server::DaemonConfig;

// Bad flag values are usage errors, caught before anything starts.
std::string CheckConfig(const DaemonConfig& c) {
  if (c.dns.timeout <= absl::ZeroDuration()) return "--dns_timeout must be > 0";
  if (c.dns.tries < 1) return "--dns_tries must be >= 1";
  if (c.cache.min_ttl < absl::ZeroDuration() || c.cache.max_ttl < c.cache.min_ttl) {
    return "--cache_min_ttl must be >= 0 and <= --cache_max_ttl";
  }
  if (c.cache.default_negative_ttl < absl::ZeroDuration() ||
      c.cache.max_negative_ttl < absl::ZeroDuration() ||
      c.cache.max_stale < absl::ZeroDuration()) {
    return "cache durations must not be negative";
  }
  if (c.service.max_pending_resolves < 1) return "--max_pending_resolves must be >= 1";
  if (c.max_request_bytes < 1024) return "--max_request_bytes must be >= 1024";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sipresolver gRPC service: resolves SIP server names as devices do.\n"
      "Usage: sipresolverd [--listen=HOST:PORT] [--metrics_listen=HOST:PORT] "
      "[--dns_servers=HOST:PORT,...] [flags]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "sipresolverd: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }

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
  config.cache.max_entries = static_cast<size_t>(
      std::max(1, absl::GetFlag(FLAGS_cache_max_entries)));
  config.service.max_pending_resolves = absl::GetFlag(FLAGS_max_pending_resolves);
  config.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  config.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (std::string bad = CheckConfig(config); !bad.empty()) {
    std::fprintf(stderr, "sipresolverd: %s\n", bad.c_str());
    return 2;
  }

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto daemon = sipresolver::server::Daemon::Start(config);
  if (!daemon.ok()) {
    sipresolver::server::Log(absl::StrCat("cannot start: ", daemon.status().ToString()));
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sipresolver::server::Log(absl::StrCat("received signal ", signal_number));
  (*daemon)->Shutdown();
  return 0;
}
