#include "tests/bench/kamailio_dispatcher.h"

#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/loopback.h"

namespace sipresolver::testing {
namespace {

constexpr char kKamailioPath[] = "/usr/sbin/kamailio";
constexpr char kModulesPath[] = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";
constexpr char kEventTag[] = "DSEVENT ";

// The dispatcher answers OPTIONS itself once its script runs.
bool Answers(uint16_t port) {
  const std::string call_id = absl::StrCat("dispatcher-ready-", port);
  auto request = [&](uint16_t local_port) {
    return absl::StrCat("OPTIONS sip:ready@127.0.0.1:", port, " SIP/2.0\r\n",
                        "Via: SIP/2.0/UDP 127.0.0.1:", local_port,
                        ";branch=z9hG4bK", call_id,
                        ";rport\r\nMax-Forwards: 70\r\n",
                        "From: <sip:bench@127.0.0.1>;tag=bench\r\n",
                        "To: <sip:ready@127.0.0.1>\r\nCall-ID: ", call_id,
                        "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
  };
  return UdpProbe(
      port, request,
      [&](absl::string_view reply) {
        return absl::StartsWith(reply, "SIP/2.0 200") &&
               absl::StrContains(reply, call_id);
      },
      absl::Milliseconds(100));
}

}  // namespace

absl::StatusOr<std::unique_ptr<KamailioDispatcher>> KamailioDispatcher::Start(
    const std::vector<uint16_t>& ports) {
  absl::StatusOr<TempDir> dir = TempDir::Create("dispatcher");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<KamailioDispatcher> d(
      new KamailioDispatcher(*std::move(dir)));
  absl::Status s =
      StartOnFreePort(PickFreeUdpTcpPort, "in use", [&](uint16_t port) {
        d->port_ = port;
        if (absl::Status w = d->WriteConfig(ports); !w.ok()) return w;
        const std::vector<std::string> args = {kKamailioPath,
                                               "-DD",
                                               "-E",
                                               "-f",
                                               d->dir_.File("kamailio.cfg"),
                                               "-w",
                                               d->dir_.path(),
                                               "-Y",
                                               d->dir_.path(),
                                               "-m",
                                               "16",
                                               "-M",
                                               "4"};
        return d->group_.StartAndWaitUntilReady(
            {args, d->log_.path(), d->log_.path()},
            [&] { return Answers(port); }, absl::Seconds(10),
            absl::Milliseconds(5));
      });
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), "\n", d->log_.Read()));
  }
  return d;
}

KamailioDispatcher::KamailioDispatcher(TempDir dir)
    : dir_(std::move(dir)), log_(dir_.File("kamailio.log")) {}

KamailioDispatcher::~KamailioDispatcher() { group_.Stop(); }

absl::Status KamailioDispatcher::WriteConfig(
    const std::vector<uint16_t>& ports) {
  {
    std::ofstream list(dir_.File("dispatcher.list"), std::ios::trunc);
    for (uint16_t p : ports) list << "1 sip:127.0.0.1:" << p << " 0 0\n";
    if (!list.flush()) return absl::InternalError("cannot write the list");
  }
  const std::vector<std::string> lines = {
      "#!KAMAILIO",
      "debug=2",
      "log_stderror=yes",
      "children=1",
      "disable_tcp=yes",
      "auto_aliases=no",
      "dns=no",
      "rev_dns=no",
      "use_dns_cache=off",
      absl::StrCat("listen=udp:127.0.0.1:", port_),
      absl::StrCat("mpath=\"", kModulesPath, "\""),
      "loadmodule \"tm.so\"",
      "loadmodule \"sl.so\"",
      "loadmodule \"pv.so\"",
      "loadmodule \"xlog.so\"",
      "loadmodule \"dispatcher.so\"",
      "modparam(\"tm\", \"fr_timer\", 1000)",
      absl::StrCat("modparam(\"dispatcher\", \"list_file\", \"",
                   dir_.File("dispatcher.list"), "\")"),
      "modparam(\"dispatcher\", \"ds_ping_interval\", 1)",
      "modparam(\"dispatcher\", \"ds_probing_threshold\", 1)",
      "modparam(\"dispatcher\", \"ds_inactive_threshold\", 1)",
      "modparam(\"dispatcher\", \"ds_probing_mode\", 1)",
      "modparam(\"dispatcher\", \"ds_ping_from\", "
      "\"sip:dispatcher@127.0.0.1\")",
      // Its pings carry ;rport, so replies come back the way the request
      // went (through the bench's lossy relay), as sipresolver's do.
      "event_route[tm:local-request] {\n  add_local_rport();\n}",
      "request_route {\n"
      "  if (method == \"OPTIONS\") { sl_send_reply(\"200\", \"OK\"); }\n"
      "  exit;\n"
      "}",
      absl::StrCat(
          "event_route[dispatcher:dst-down] {\n  xlog(\"L_NOTICE\", \"",
          kEventTag, "down $ru $TV(Sn)\\n\");\n}"),
      absl::StrCat("event_route[dispatcher:dst-up] {\n  xlog(\"L_NOTICE\", \"",
                   kEventTag, "up $ru $TV(Sn)\\n\");\n}"),
  };
  std::ofstream out(dir_.File("kamailio.cfg"), std::ios::trunc);
  out << absl::StrJoin(lines, "\n") << "\n";
  if (!out.flush()) return absl::InternalError("cannot write kamailio.cfg");
  return absl::OkStatus();
}

std::vector<DestinationEvent> KamailioDispatcher::NewEvents() {
  const std::string text = log_.Read(read_);
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) return {};
  read_ += end + 1;
  std::vector<DestinationEvent> events;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text).substr(0, end), '\n')) {
    const size_t at = line.find(kEventTag);
    if (at == absl::string_view::npos) continue;
    // "down sip:127.0.0.1:PORT SEC.USEC"
    std::vector<absl::string_view> f = absl::StrSplit(
        line.substr(at + sizeof(kEventTag) - 1), ' ', absl::SkipEmpty());
    if (f.size() < 3) continue;
    DestinationEvent e;
    e.up = f[0] == "up";
    const size_t colon = f[1].rfind(':');
    double seconds = 0;
    uint32_t port = 0;
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(f[1].substr(colon + 1), &port) ||
        !absl::SimpleAtod(f[2], &seconds)) {
      continue;
    }
    e.port = static_cast<uint16_t>(port);
    e.time = absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6));
    events.push_back(e);
  }
  return events;
}

}  // namespace sipresolver::testing
