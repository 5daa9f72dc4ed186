#include "tests/support/bind_server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/loopback.h"

namespace sipresolver::testing {
namespace {

constexpr char kNamedPath[] = "/usr/sbin/named";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<BindServer>> BindServer::Start(
    const BindZone& zone) {
  absl::StatusOr<TempDir> dir = TempDir::Create("bind");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<BindServer> server(new BindServer(*std::move(dir)));
  absl::Status s =
      StartOnFreePort(PickFreeUdpTcpPort, "in use", [&](uint16_t port) {
        server->port_ = port;
        absl::Status s = server->WriteFiles(zone);
        return s.ok() ? server->Launch() : s;
      });
  if (!s.ok()) return s;
  return server;
}

BindServer::BindServer(TempDir dir)
    : dir_(std::move(dir)), log_(dir_.path() + "/named.log") {}

BindServer::~BindServer() { Stop(); }

std::string BindServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status BindServer::Restart(const BindZone& zone) {
  Stop();
  ++serial_;
  if (absl::Status s = WriteFiles(zone); !s.ok()) return s;
  return Launch();
}

absl::Status BindServer::WriteFiles(const BindZone& zone) {
  for (const std::string& line : zone.records) {
    if (line.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("zone record \"", line, "\": one line each"));
    }
  }
  const std::string& d = dir_.path();
  const std::string conf = absl::StrCat(
      "options {\n"
      "  directory \"",
      d,
      "\";\n"
      "  pid-file none;\n"
      "  session-keyfile none;\n"
      "  managed-keys-directory \"",
      d,
      "\";\n"
      "  listen-on port ",
      port_,
      " { 127.0.0.1; };\n"
      "  listen-on-v6 { none; };\n"
      "  recursion no;\n"
      "  dnssec-validation no;\n"
      "  notify no;\n"
      "};\n"
      "controls { };\n"
      "zone \"",
      zone.origin, "\" { type primary; file \"", d, "/zone.db\"; };\n");
  const std::string records = absl::StrCat(
      "$ORIGIN ", zone.origin, ".\n", "$TTL ", zone.default_ttl, "\n", "@ ",
      zone.negative_ttl, " IN SOA ns hostmaster ", serial_, " 3600 600 86400 ",
      zone.negative_ttl, "\n", "@ IN NS ns\n", "ns IN A 127.0.0.1\n",
      absl::StrJoin(zone.records, "\n"), "\n");
  if (absl::Status s = WriteTextFile(d + "/named.conf", conf); !s.ok())
    return s;
  return WriteTextFile(d + "/zone.db", records);
}

absl::Status BindServer::Launch() {
  // -g: foreground, log to stderr; -n 1: one worker thread is plenty.
  return process_.StartAndWaitUntilReady(
      {{kNamedPath, "-g", "-n", "1", "-c", dir_.path() + "/named.conf"},
       "",
       log_.path()},
      // Answering is not enough: named serves on without a zone it could
      // not load. Each start loads a new serial, so the log tells.
      [this] {
        return absl::StrContains(log_.Read(),
                                 absl::StrCat("loaded serial ", serial_)) &&
               DnsServerAnswers(port_, absl::Milliseconds(100)) &&
               ListensOnTcp(process_.pid(), port_);
      },
      kStartTimeout, absl::Milliseconds(20));
}

}  // namespace sipresolver::testing
