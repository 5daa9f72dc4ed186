#include "tests/support/powerdns_server.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tests/support/loopback.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

constexpr char kPdnsServerPath[] = "/usr/sbin/pdns_server";
constexpr char kPdnsControlPath[] = "/usr/bin/pdns_control";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

absl::Status CheckOneLine(absl::string_view what, absl::string_view value) {
  if (value.find_first_of("\r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PowerDnsOptions: ", what, " \"", absl::CEscape(value), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PowerDnsServer>> PowerDnsServer::Start(
    const PowerDnsOptions& options) {
  if (options.backend_socket.empty()) {
    return absl::InvalidArgumentError("PowerDnsOptions: no backend_socket");
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("pdns");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<PowerDnsServer> server(new PowerDnsServer(*std::move(dir)));
  // "Unable to bind UDP socket to '127.0.0.1:PORT': Address already in use".
  absl::Status s =
      StartOnFreePort(PickFreeUdpTcpPort, "in use", [&](uint16_t port) {
        server->port_ = port;
        absl::Status s = server->WriteConfig(options);
        return s.ok() ? server->Launch() : s;
      });
  if (!s.ok()) return s;
  return server;
}

PowerDnsServer::PowerDnsServer(TempDir dir)
    : dir_(std::move(dir)), log_(dir_.File("pdns.log")) {}

PowerDnsServer::~PowerDnsServer() { Stop(); }

std::string PowerDnsServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status PowerDnsServer::WriteConfig(const PowerDnsOptions& options) {
  if (absl::Status s = CheckOneLine("backend_socket", options.backend_socket);
      !s.ok()) {
    return s;
  }
  for (const std::string& line : options.extra_lines) {
    if (absl::Status s = CheckOneLine("extra line", line); !s.ok()) return s;
  }
  std::vector<std::string> lines = {
      "daemon=no",
      "guardian=no",
      "write-pid=no",
      "disable-syslog=yes",
      absl::StrCat("socket-dir=", dir_.path()),
      "local-address=127.0.0.1",
      absl::StrCat("local-port=", port_),
      "launch=remote",
      absl::StrCat(
          "remote-connection-string=unix:path=", options.backend_socket,
          ",timeout=", absl::ToInt64Milliseconds(options.backend_timeout)),
      absl::StrCat("cache-ttl=", options.cache_ttl),
      absl::StrCat("query-cache-ttl=", options.query_cache_ttl),
      absl::StrCat("negquery-cache-ttl=", options.negquery_cache_ttl),
      absl::StrCat("zone-cache-refresh-interval=",
                   options.zone_cache_refresh_interval),
  };
  if (!options.shuffle) lines.push_back("no-shuffle=yes");
  for (const std::string& line : options.extra_lines) lines.push_back(line);
  return WriteTextFile(dir_.File("pdns.conf"),
                       absl::StrCat(absl::StrJoin(lines, "\n"), "\n"));
}

absl::Status PowerDnsServer::Launch() {
  return process_.StartAndWaitUntilReady(
      {{kPdnsServerPath, absl::StrCat("--config-dir=", dir_.path())},
       log_.path(),
       log_.path()},
      // version.bind is answered by PowerDNS itself, backend or not; the TCP
      // listener tells that the answer was ours, not from whatever took the
      // port between the pick and pdns_server's bind.
      [this] {
        return DnsServerAnswers(port_, absl::Milliseconds(100)) &&
               ListensOnTcp(process_.pid(), port_);
      },
      kStartTimeout, absl::Milliseconds(20));
}

absl::Status PowerDnsServer::Purge(absl::string_view name) const {
  absl::ConsumeSuffix(&name, ".");
  const CommandResult result =
      RunCommand({kPdnsControlPath, absl::StrCat("--config-dir=", dir_.path()),
                  "purge", absl::StrCat(name, "$")},
                 absl::Seconds(10));
  if (result.exit_status != 0) {
    return absl::InternalError(
        absl::StrCat("pdns_control purge ", name, "$: exit status ",
                     result.exit_status, ": ", result.output));
  }
  return absl::OkStatus();
}

}  // namespace sipresolver::testing
