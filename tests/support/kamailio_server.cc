#include "tests/support/kamailio_server.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/loopback.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_pki.h"

namespace sipresolver::testing {
namespace {

constexpr char kKamailioPath[] = "/usr/sbin/kamailio";
constexpr char kModulesPath[] = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";
// The R-URI user of the fixture's readiness probe: answered before the mode
// applies and never logged as a request.
constexpr char kReadyUser[] = "sipresolver-fixture-ready";
constexpr char kRequestTag[] = "<script>: REQ ";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kRestartPortTimeout = absl::Seconds(2);

// Sends one OPTIONS to the readiness user; true if any final reply to it
// arrived within `wait`.
bool Probe(uint16_t port, absl::Duration wait) {
  static int next_probe = 0;
  const std::string call_id =
      absl::StrCat("fixture-ready-", getpid(), "-", ++next_probe);
  auto request = [&](uint16_t local_port) {
    return absl::StrCat(
        "OPTIONS sip:", kReadyUser, "@127.0.0.1:", port, " SIP/2.0\r\n",
        "Via: SIP/2.0/UDP 127.0.0.1:", local_port, ";branch=z9hG4bK", call_id,
        ";rport\r\n", "Max-Forwards: 70\r\n",
        "From: <sip:fixture@127.0.0.1>;tag=fixture\r\n",
        "To: <sip:", kReadyUser, "@127.0.0.1>\r\n", "Call-ID: ", call_id,
        "\r\n", "CSeq: 1 OPTIONS\r\n", "Content-Length: 0\r\n\r\n");
  };
  return UdpProbe(
      port, request,
      [&](absl::string_view reply) {
        return absl::StartsWith(reply, "SIP/2.0 2") &&
               absl::StrContains(reply, call_id);
      },
      wait);
}

// Values pasted into kamailio.cfg string literals, which also expand
// pseudo-variables ("$fd") in these parameters.
absl::Status CheckCfgString(absl::string_view what, absl::string_view value) {
  bool ok = !value.empty();
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '$') ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("KamailioConfig: ", what, " \"", absl::CEscape(value),
                     "\" must be non-empty printable ASCII without '\"', "
                     "'\\\\' or '$'"));
  }
  return absl::OkStatus();
}

// drop_user_agent as a POSIX extended regular expression that matches the
// text literally: each non-alphanumeric character in a bracket expression
// ("[.]"), where only '^' and ']' would be special; those are refused.
absl::StatusOr<std::string> LiteralRegex(absl::string_view text) {
  if (absl::Status s = CheckCfgString("drop_user_agent", text); !s.ok())
    return s;
  std::string out;
  for (char c : text) {
    if (c == '^' || c == ']') {
      return absl::InvalidArgumentError(
          absl::StrCat("KamailioConfig: drop_user_agent \"", text,
                       "\" must not contain '^' or ']'"));
    }
    if (absl::ascii_isalnum(c)) {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "[", absl::string_view(&c, 1), "]");
    }
  }
  return out;
}

// The request_route part that depends on the mode.
std::string ModeRoute(const KamailioConfig& c) {
  // pv_auth_check returns -2 for a wrong password.
  std::string register_auth =
      absl::StrCat("  pv_auth_check(\"", c.realm, "\", \"", c.password,
                   "\", \"0\", \"1\");\n"
                   "  $var(auth) = $rc;\n"
                   "  if ($var(auth) < 0) {\n");
  if (c.wrong_password == KamailioConfig::kReject) {
    absl::StrAppend(&register_auth,
                    "    if ($var(auth) == -2) {\n"
                    "      sl_send_reply(\"403\", \"Forbidden\"); exit;\n"
                    "    }\n");
  }
  absl::StrAppend(&register_auth, "    auth_challenge(\"", c.realm,
                  "\", \"1\");\n"
                  "    exit;\n"
                  "  }\n");
  const std::string options_ok =
      "  if (method == \"OPTIONS\") { sl_send_reply(\"200\", \"OK\"); exit; }\n"
      "  if (method != \"REGISTER\") {\n"
      "    sl_send_reply(\"501\", \"Not Implemented\"); exit;\n"
      "  }\n";
  const std::string save =
      "  if (!save(\"location\")) sl_reply_error();\n"
      "  exit;\n";
  switch (c.mode) {
    case KamailioConfig::kRegistrar:
      return absl::StrCat(options_ok, register_auth, save);
    case KamailioConfig::kNoAuth:
      return absl::StrCat(options_ok, save);
    case KamailioConfig::kForbidden:
      return absl::StrCat(options_ok,
                          "  sl_send_reply(\"403\", \"Forbidden\");\n"
                          "  exit;\n");
    case KamailioConfig::kAlwaysUnavailable:
      return absl::StrCat(
          c.retry_after_seconds
              ? absl::StrCat("  append_to_reply(\"Retry-After: ",
                             *c.retry_after_seconds, "\\r\\n\");\n")
              : "",
          "  sl_send_reply(\"503\", \"Service Unavailable\");\n"
          "  exit;\n");
    case KamailioConfig::kSilent:
      return "  exit;\n";
  }
  return "  exit;\n";
}

}  // namespace

absl::StatusOr<std::unique_ptr<KamailioServer>> KamailioServer::Start(
    const KamailioConfig& config) {
  absl::StatusOr<TempDir> dir = TempDir::Create("kamailio");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<KamailioServer> server(new KamailioServer(*std::move(dir)));
  absl::Status s =
      StartOnFreePort(PickFreeUdpTcpPort, "in use", [&](uint16_t port) {
        server->port_ = port;
        server->tls_port_ = 0;  // Picked again by WriteConfig.
        absl::Status s = server->WriteConfig(config);
        return s.ok() ? server->Launch() : s;
      });
  if (!s.ok()) return s;
  return server;
}

KamailioServer::KamailioServer(TempDir dir)
    : dir_(std::move(dir)),
      config_path_(dir_.File("kamailio.cfg")),
      log_(dir_.File("kamailio.log")) {}

KamailioServer::~KamailioServer() { Stop(); }  // Then dir_ goes.

std::string KamailioServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status KamailioServer::WriteConfig(const KamailioConfig& config) {
  if (absl::Status s = CheckCfgString("password", config.password); !s.ok())
    return s;
  if (absl::Status s = CheckCfgString("realm", config.realm); !s.ok()) return s;
  // Goes right after the request log lines: such a request is logged, then
  // dropped with no reply at all (a ban, not a refusal).
  std::string drop_route;
  if (!config.drop_user_agent.empty()) {
    absl::StatusOr<std::string> re = LiteralRegex(config.drop_user_agent);
    if (!re.ok()) return re.status();
    drop_route = absl::StrCat(
        "  if ($ua =~ \"", *re, "\") {\n",
        "    xlog(\"L_NOTICE\", \"DROP banned User-Agent\\n\"); exit;\n",
        "  }\n");
  }
  if (config.retry_after_seconds && *config.retry_after_seconds < 0) {
    return absl::InvalidArgumentError(
        "KamailioConfig: retry_after_seconds must be >= 0");
  }
  if (config.tls) {
    if (absl::Status s = MakeTlsCertificate(config); !s.ok()) return s;
    while (tls_port_ == 0 || tls_port_ == port_) tls_port_ = PickFreePort();
  }
  std::vector<std::string> lines = {
      "#!KAMAILIO",
      "debug=2",  // Errors, warnings, notices (the request log), info.
      "log_stderror=yes",
      // One UDP receiver, one TCP receiver: ~7 processes in all.
      "children=1",
      "tcp_children=1",
      "disable_tcp=no",
      "disable_sctp=yes",
      // Nothing of the machine's DNS: no alias lookups, no reverse lookups.
      "auto_aliases=no",
      "dns=no",
      "rev_dns=no",
      "use_dns_cache=off",
      absl::StrCat("listen=udp:127.0.0.1:", port_),
      absl::StrCat("listen=tcp:127.0.0.1:", port_),
      absl::StrCat("mpath=\"", kModulesPath, "\""),
  };
  if (config.tls) {
    const std::string tls_cfg = dir_.File("tls.cfg");
    std::ofstream out(tls_cfg, std::ios::trunc);
    out << "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
        << "require_certificate = no\nprivate_key = " << dir_.File("server.key")
        << "\ncertificate = " << dir_.File("server.pem") << "\n";
    if (!out.flush()) {
      return absl::InternalError(absl::StrCat("cannot write ", tls_cfg));
    }
    lines.insert(
        lines.end(),
        {"enable_tls=yes", absl::StrCat("listen=tls:127.0.0.1:", tls_port_),
         "loadmodule \"tls.so\"",
         absl::StrCat("modparam(\"tls\", \"config\", \"", tls_cfg, "\")")});
  }
  for (const char* module :
       {"tm", "sl", "pv", "xlog", "maxfwd", "textops", "siputils", "auth",
        "usrloc", "registrar", "ctl"}) {
    lines.push_back(absl::StrCat("loadmodule \"", module, ".so\""));
  }
  lines.push_back("modparam(\"usrloc\", \"db_mode\", 0)");  // Memory only.
  lines.push_back(absl::StrCat("modparam(\"registrar\", \"min_expires\", ",
                               config.min_expires, ")"));
  // kamcmd's socket (Locations()), in the fixture's own directory.
  lines.push_back(absl::StrCat(
      "modparam(\"ctl\", \"binrpc\", \"unix:", dir_.File("ctl.sock"), "\")"));
  lines.push_back(absl::StrCat(
      "request_route {\n", "  if ($rU == \"", kReadyUser, "\") {\n",
      "    sl_send_reply(\"200\", \"Fixture Ready\"); exit;\n", "  }\n",
      // One line per request, written before any reply (see Requests()).
      // The User-Agent goes last: it may contain spaces.
      "  xlog(\"L_NOTICE\", \"REQ $rm $pr $si:$sp $fU $ua\\n\");\n",
      config.tls ? "  if ($pr == \"tls\") xlog(\"L_NOTICE\", "
                   "\"TLS SNI $tls_peer_server_name\\n\");\n"
                 : "",
      drop_route, "  if (method == \"ACK\") exit;\n",
      "  if (!mf_process_maxfwd_header(\"10\")) {\n",
      "    sl_send_reply(\"483\", \"Too Many Hops\"); exit;\n", "  }\n",
      ModeRoute(config), "}"));

  std::ofstream out(config_path_, std::ios::trunc);
  out << absl::StrJoin(lines, "\n") << "\n";
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", config_path_));
  }
  return absl::OkStatus();
}

absl::Status KamailioServer::MakeTlsCertificate(const KamailioConfig& config) {
  const std::string& name = config.tls_server_name;
  bool ok = !name.empty();
  for (char c : name)
    ok = ok && (absl::ascii_isalnum(c) || c == '-' || c == '.');
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("KamailioConfig: tls_server_name \"", absl::CEscape(name),
                     "\" must be a DNS name (letters, digits, '-' and '.')"));
  }
  const std::string wanted =
      absl::StrCat(name, config.tls_self_signed ? " self-signed" : "");
  if (wanted == tls_certificate_for_) return absl::OkStatus();
  const std::string ca = dir_.File("ca.pem"), ca_key = dir_.File("ca.key");
  const std::string cert = dir_.File("server.pem");
  const std::string key = dir_.File("server.key");
  const std::string subject = absl::StrCat("/CN=", name);
  const std::string san = absl::StrCat("subjectAltName=DNS:", name);
  std::vector<std::string> args = {"req", "-x509", "-days", "2", "-subj"};
  if (config.tls_self_signed) {
    args.insert(args.end(), {subject, "-addext", san, "-out", cert});
    if (absl::Status s = RunOpenssl(args, key); !s.ok()) return s;
    ca_file_ = cert;  // A self-signed certificate is its own trust anchor.
  } else {
    if (!std::filesystem::exists(ca)) {
      args.insert(args.end(), {"/CN=sipresolver test CA", "-out", ca});
      if (absl::Status s = RunOpenssl(args, ca_key); !s.ok()) return s;
    }
    const std::string csr = dir_.File("server.csr");
    const std::string ext = dir_.File("server.ext");
    std::ofstream(ext, std::ios::trunc)
        << "basicConstraints=critical,CA:FALSE\n"
        << "keyUsage=critical,digitalSignature\n"
        << "extendedKeyUsage=serverAuth\n"
        << san << "\n";
    if (absl::Status s =
            RunOpenssl({"req", "-new", "-subj", subject, "-out", csr}, key);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = RunOpenssl(
            {"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert});
        !s.ok()) {
      return s;
    }
    ca_file_ = ca;
  }
  tls_certificate_for_ = wanted;
  return absl::OkStatus();
}

absl::Status KamailioServer::Launch() {
  //  -DD     stay in the foreground: the main process is our child
  //  -E      log to stderr (our log file)
  //  -w, -Y  working directory (core files) and runtime directory (instead
  //          of /run/kamailio): the temporary directory
  //  -m, -M  shared and per-process memory in MB (defaults 64 and 8; only
  //          the pages touched count: ~12 MB PSS for the group either way)
  // clang-format off
  const std::vector<std::string> args = {
      kKamailioPath, "-DD", "-E",
      "-f", config_path_,
      "-w", dir_.path(),
      "-Y", dir_.path(),
      "-m", "16", "-M", "4"};
  // clang-format on
  return group_.StartAndWaitUntilReady(
      {args, log_.path(), log_.path()},
      // Ours, not a process that took the port between the pick and the
      // bind.
      [this] {
        if (!Probe(port_, absl::Milliseconds(100))) return false;
        // The listener is tcp_main's, a child of the leader.
        for (pid_t pid : group_.ProcessIds()) {
          if (ListensOnTcp(pid, port_)) return true;
        }
        return false;
      },
      kStartTimeout, absl::Milliseconds(5));
}

absl::Status KamailioServer::Restart(const KamailioConfig& config) {
  Stop();
  if (absl::Status s = WriteConfig(config); !s.ok()) return s;
  absl::Time deadline = absl::Now() + kRestartPortTimeout;
  while (true) {
    absl::Status s = Launch();
    if (s.ok() || !absl::StrContains(s.message(), "in use") ||
        absl::Now() >= deadline) {
      return s;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

void KamailioServer::Stop() { group_.Stop(); }

void KamailioServer::Pause() { group_.Pause(); }

void KamailioServer::Resume() { group_.Resume(); }

std::vector<pid_t> KamailioServer::ProcessIds() const {
  return group_.ProcessIds();
}

std::vector<SipRequestRecord> KamailioServer::Requests() const {
  std::vector<SipRequestRecord> out;
  std::string log = log_.ReadSinceMark();
  log.erase(log.rfind('\n') + 1);  // Not a line being written right now.
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    // " 1(4242) NOTICE: <script>: REQ REGISTER udp 127.0.0.1:40000 alice UA"
    size_t pos = line.find(kRequestTag);
    if (pos == absl::string_view::npos) continue;
    std::vector<std::string> f = absl::StrSplit(
        line.substr(pos + strlen(kRequestTag)), absl::MaxSplits(' ', 4));
    if (f.size() != 5) continue;
    out.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return out;
}

int KamailioServer::CountRequests(absl::string_view method) const {
  int count = 0;
  for (const SipRequestRecord& r : Requests()) {
    if (r.method == method) ++count;
  }
  return count;
}

bool KamailioServer::WaitForRequests(absl::string_view method, int n,
                                     absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (CountRequests(method) >= n) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void KamailioServer::ResetRequestCounts() { log_.Mark(); }

absl::StatusOr<std::string> KamailioServer::Locations() const {
  CommandResult r =
      RunCommand({"/usr/sbin/kamcmd", "-s",
                  absl::StrCat("unix:", dir_.File("ctl.sock")), "ul.dump"});
  if (r.exit_status != 0) {
    return absl::InternalError(absl::StrCat("kamcmd ul.dump exited with ",
                                            r.exit_status, ": ", r.output));
  }
  return r.output;
}

std::string KamailioServer::ReadLog() const { return log_.Read(); }

}  // namespace sipresolver::testing
