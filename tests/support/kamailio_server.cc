#include "tests/support/kamailio_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

constexpr char kKamailioPath[] = "/usr/sbin/kamailio";
constexpr char kOpensslPath[] = "/usr/bin/openssl";
constexpr char kModulesPath[] = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";
// The R-URI user of the fixture's readiness probe: answered before the mode
// applies and never logged as a request.
constexpr char kReadyUser[] = "sipresolver-fixture-ready";
constexpr char kRequestTag[] = "<script>: REQ ";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kExitTimeout = absl::Seconds(2);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);
constexpr absl::Duration kPauseTimeout = absl::Seconds(2);
constexpr absl::Duration kRestartPortTimeout = absl::Seconds(2);
constexpr int kStartAttempts = 5;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Binds `fd` to 127.0.0.1:port (0: ephemeral); returns the port or 0.
uint16_t BindLoopback(int fd, uint16_t port) {
  sockaddr_in addr = Loopback(port);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

// A port of 127.0.0.1 free for both UDP and TCP right now.
absl::StatusOr<uint16_t> PickFreeUdpTcpPort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    Fd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Fd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (udp.get() < 0 || tcp.get() < 0) {
      return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
    }
    uint16_t port = BindLoopback(udp.get(), 0);
    if (port == 0) return absl::InternalError("bind(UDP 127.0.0.1:0) failed");
    int one = 1;  // Kamailio sets SO_REUSEADDR on its TCP socket too.
    setsockopt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (BindLoopback(tcp.get(), port) == port) return port;
  }
  return absl::UnavailableError("no free UDP+TCP port on 127.0.0.1");
}

// Sends one OPTIONS to the readiness user; true if any final reply to it
// arrived within `wait`.
bool Probe(uint16_t port, absl::Duration wait) {
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  uint16_t local_port = BindLoopback(fd.get(), 0);
  sockaddr_in addr = Loopback(port);
  if (local_port == 0 || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr),
                                 sizeof(addr)) != 0) {
    return false;
  }
  static int next_probe = 0;
  const std::string call_id =
      absl::StrCat("fixture-ready-", getpid(), "-", ++next_probe);
  const std::string request = absl::StrCat(
      "OPTIONS sip:", kReadyUser, "@127.0.0.1:", port, " SIP/2.0\r\n",
      "Via: SIP/2.0/UDP 127.0.0.1:", local_port, ";branch=z9hG4bK", call_id,
      ";rport\r\n", "Max-Forwards: 70\r\n",
      "From: <sip:fixture@127.0.0.1>;tag=fixture\r\n", "To: <sip:", kReadyUser,
      "@127.0.0.1>\r\n", "Call-ID: ", call_id, "\r\n", "CSeq: 1 OPTIONS\r\n",
      "Content-Length: 0\r\n\r\n");
  if (send(fd.get(), request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    return false;
  }
  absl::Time deadline = absl::Now() + wait;
  while (true) {
    int ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) return false;
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) return false;  // e.g. ECONNREFUSED: not listening yet.
    absl::string_view reply(buf, static_cast<size_t>(n));
    if (absl::StartsWith(reply, "SIP/2.0 2") &&
        absl::StrContains(reply, call_id)) {
      return true;
    }
  }
}

std::string ReadFile(const std::string& path, size_t offset = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

// Polls waitpid for up to `timeout`; true once the child has been reaped.
bool ReapWithin(pid_t pid, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

struct ProcState {
  pid_t pid;
  char state;  // R, S, D, T, t, Z, ...
};

// The live (not zombie) processes whose process group is `pgid`, from /proc.
std::vector<ProcState> GroupMembers(pid_t pgid) {
  std::vector<ProcState> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    int pid;
    if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
    std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
    // "PID (COMM) STATE PPID PGRP ..."; COMM may contain spaces or ')'.
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(
        absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
    int pgrp;
    if (fields.size() < 3 || !absl::SimpleAtoi(fields[2], &pgrp) ||
        pgrp != pgid || fields[0].empty()) {
      continue;
    }
    char state = fields[0][0];
    if (state == 'Z' || state == 'X') continue;
    out.push_back({pid, state});
  }
  closedir(proc);
  return out;
}

// Waits until `done(members)` holds, at most `timeout`.
template <typename Pred>
bool WaitForGroup(pid_t pgid, absl::Duration timeout, Pred done) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (done(GroupMembers(pgid))) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
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

// Runs the openssl CLI; its output is in the error. With `new_key`, the
// command also makes an EC P-256 key there (quick, and fine for TLS 1.2+).
absl::Status Openssl(std::vector<std::string> args,
                     const std::string& new_key = "") {
  args.insert(args.begin(), kOpensslPath);
  if (!new_key.empty()) {
    args.insert(args.end(),
                {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", new_key});
  }
  CommandResult r = RunCommand(args, absl::Seconds(30));
  if (r.exit_status == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::StrJoin(args, " "), " failed: ", r.output));
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
  std::unique_ptr<KamailioServer> server(new KamailioServer());
  const char* base = getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string templ = absl::StrCat(base, "/kamailio.XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  server->dir_ = templ;
  server->config_path_ = templ + "/kamailio.cfg";
  server->log_path_ = templ + "/kamailio.log";

  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreeUdpTcpPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    server->tls_port_ = 0;  // Picked again by WriteConfig.
    if (absl::Status s = server->WriteConfig(config); !s.ok()) return s;
    last = server->Launch();
    if (last.ok()) return server;
    // Another process may have taken the port between the check and
    // kamailio's bind; anything else is not worth retrying.
    if (!absl::StrContains(last.message(), "in use")) break;
  }
  return last;
}

KamailioServer::~KamailioServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string KamailioServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status KamailioServer::WriteConfig(const KamailioConfig& config) {
  if (absl::Status s = CheckCfgString("password", config.password); !s.ok())
    return s;
  if (absl::Status s = CheckCfgString("realm", config.realm); !s.ok()) return s;
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
    const std::string tls_cfg = dir_ + "/tls.cfg";
    std::ofstream out(tls_cfg, std::ios::trunc);
    out << "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
        << "require_certificate = no\nprivate_key = " << dir_
        << "/server.key\ncertificate = " << dir_ << "/server.pem\n";
    if (!out.flush()) {
      return absl::InternalError(absl::StrCat("cannot write ", tls_cfg));
    }
    lines.insert(
        lines.end(),
        {"enable_tls=yes", absl::StrCat("listen=tls:127.0.0.1:", tls_port_),
         "loadmodule \"tls.so\"",
         absl::StrCat("modparam(\"tls\", \"config\", \"", tls_cfg, "\")")});
  }
  for (const char* module : {"tm", "sl", "pv", "xlog", "maxfwd", "textops",
                             "siputils", "auth", "usrloc", "registrar"}) {
    lines.push_back(absl::StrCat("loadmodule \"", module, ".so\""));
  }
  lines.push_back("modparam(\"usrloc\", \"db_mode\", 0)");  // Memory only.
  lines.push_back(absl::StrCat(
      "request_route {\n", "  if ($rU == \"", kReadyUser, "\") {\n",
      "    sl_send_reply(\"200\", \"Fixture Ready\"); exit;\n", "  }\n",
      // One line per request, written before any reply (see Requests()).
      "  xlog(\"L_NOTICE\", \"REQ $rm $pr $si:$sp $fU\\n\");\n",
      config.tls ? "  if ($pr == \"tls\") xlog(\"L_NOTICE\", "
                   "\"TLS SNI $tls_peer_server_name\\n\");\n"
                 : "",
      "  if (method == \"ACK\") exit;\n",
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
  const std::string ca = dir_ + "/ca.pem", ca_key = dir_ + "/ca.key";
  const std::string cert = dir_ + "/server.pem", key = dir_ + "/server.key";
  const std::string subject = absl::StrCat("/CN=", name);
  const std::string san = absl::StrCat("subjectAltName=DNS:", name);
  std::vector<std::string> args = {"req", "-x509", "-days", "2", "-subj"};
  if (config.tls_self_signed) {
    args.insert(args.end(), {subject, "-addext", san, "-out", cert});
    if (absl::Status s = Openssl(args, key); !s.ok()) return s;
    ca_file_ = cert;  // A self-signed certificate is its own trust anchor.
  } else {
    if (!std::filesystem::exists(ca)) {
      args.insert(args.end(), {"/CN=sipresolver test CA", "-out", ca});
      if (absl::Status s = Openssl(args, ca_key); !s.ok()) return s;
    }
    const std::string csr = dir_ + "/server.csr", ext = dir_ + "/server.ext";
    std::ofstream(ext, std::ios::trunc)
        << "basicConstraints=critical,CA:FALSE\n"
        << "keyUsage=critical,digitalSignature\n"
        << "extendedKeyUsage=serverAuth\n"
        << san << "\n";
    if (absl::Status s =
            Openssl({"req", "-new", "-subj", subject, "-out", csr}, key);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Openssl({"x509", "-req", "-in", csr, "-CA", ca,
                                  "-CAkey", ca_key, "-CAcreateserial", "-days",
                                  "2", "-extfile", ext, "-out", cert});
        !s.ok()) {
      return s;
    }
    ca_file_ = ca;
  }
  tls_certificate_for_ = wanted;
  return absl::OkStatus();
}

absl::Status KamailioServer::Launch() {
  // Everything the children need is prepared before fork(): after it, only
  // async-signal-safe calls (the test process may have threads).
  //  -DD     stay in the foreground: the main process is our child
  //  -E      log to stderr (our log file)
  //  -w, -Y  working directory (core files) and runtime directory (instead
  //          of /run/kamailio): the temporary directory
  //  -m, -M  shared and per-process memory in MB (defaults 64 and 8; only
  //          the pages touched count: ~12 MB PSS for the group either way)
  // clang-format off
  std::vector<std::string> args = {
      kKamailioPath, "-DD", "-E",
      "-f", config_path_,
      "-w", dir_,
      "-Y", dir_,
      "-m", "16", "-M", "4"};
  // clang-format on
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const size_t log_start = FileSize(log_path_);
  int log_fd =
      open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", log_path_, ": ", strerror(errno)));
  }
  Fd log_closer(log_fd);
  Fd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  // A socket pair rather than a pipe: send(MSG_NOSIGNAL) cannot raise
  // SIGPIPE in the test if the guardian is gone.
  int guard[2];
  if (null_fd.get() < 0 ||
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, guard) != 0) {
    return absl::InternalError(
        absl::StrCat("open/socketpair: ", strerror(errno)));
  }
  Fd guard_read(guard[0]);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  const int max_fd = nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > 65536
                         ? 65536
                         : static_cast<int>(nofile.rlim_cur);
  struct sigaction dfl = {};
  struct sigaction ign = {};
  dfl.sa_handler = SIG_DFL;
  ign.sa_handler = SIG_IGN;
  sigset_t no_signals;
  sigemptyset(&no_signals);
  auto close_from = [max_fd](int first) {  // Async-signal-safe.
    if (close_range(static_cast<unsigned>(first), ~0U, 0) != 0) {
      for (int fd = first; fd < max_fd; ++fd) close(fd);
    }
  };
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(guard[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(e)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // Its own group: Pause/Stop signal kamailio and all its children, and
    // nothing sent to the test's group (a terminal's ^C) reaches it directly.
    setpgid(0, 0);
    dup2(null_fd.get(), 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    close_from(3);  // Nothing else of the test process (sockets, pipes).
    for (int s : {SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGUSR1}) {
      sigaction(s, &dfl, nullptr);
    }
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    execv(kKamailioPath, argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // Also here, so the group exists before we signal it.
  pid_ = pid;
  paused_ = false;

  // The guardian: waits on its socket; EOF (the test process died, or Stop()
  // failed to release it) means SIGKILL to kamailio's group, a 'q' means
  // exit quietly. It ignores the signals a terminal or ctest sends to the
  // test's group, so it outlives the test to do its job.
  pid_t guardian = fork();
  if (guardian < 0) {
    int e = errno;
    close(guard[1]);
    kill(-pid_, SIGKILL);
    ReapWithin(pid_, kKillTimeout);
    pid_ = -1;
    return absl::InternalError(absl::StrCat("fork (guardian): ", strerror(e)));
  }
  if (guardian == 0) {
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP}) {
      sigaction(s, &ign, nullptr);
    }
    dup2(null_fd.get(), 0);
    dup2(null_fd.get(), 1);
    dup2(null_fd.get(), 2);
    if (guard[0] != 3) dup2(guard[0], 3);
    close_from(4);  // Above all our end and other guardians' sockets.
    char c = 0;
    ssize_t n;
    do {
      n = read(3, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'q') _exit(0);
    kill(-pid, SIGKILL);
    _exit(0);
  }
  guardian_pid_ = guardian;
  guardian_fd_ = guard[1];

  absl::Time deadline = absl::Now() + kStartTimeout;
  while (true) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      // A failed start has left no children so far; kill any all the same.
      pid_t group = pid_;
      pid_ = -1;
      if (!GroupMembers(group).empty()) kill(-group, SIGKILL);
      ReleaseGuardian();
      std::string why = WIFEXITED(status)
                            ? absl::StrCat("exit status ", WEXITSTATUS(status))
                            : absl::StrCat("signal ", WTERMSIG(status));
      return absl::InternalError(
          absl::StrCat(absl::StrJoin(args, " "), " failed (", why,
                       "); stderr: ", ReadFile(log_path_, log_start)));
    }
    if (Probe(port_, absl::Milliseconds(100))) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      Stop();
      return absl::DeadlineExceededError(
          absl::StrCat("kamailio did not answer on udp:", address(), " within ",
                       absl::FormatDuration(kStartTimeout),
                       "; stderr: ", ReadFile(log_path_, log_start)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void KamailioServer::ReleaseGuardian() {
  if (guardian_fd_ >= 0) {
    char q = 'q';
    send(guardian_fd_, &q, 1, MSG_NOSIGNAL);
    close(guardian_fd_);
    guardian_fd_ = -1;
  }
  if (guardian_pid_ > 0) {
    if (!ReapWithin(guardian_pid_, kKillTimeout)) {
      kill(guardian_pid_, SIGKILL);
      ReapWithin(guardian_pid_, kKillTimeout);
    }
    guardian_pid_ = -1;
  }
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

void KamailioServer::Stop() {
  if (pid_ <= 0) return;
  const pid_t group = pid_;
  // Kamailio's own SIGTERM shutdown is not reliable in tests (5.6.3): some
  // children never act on a SIGTERM that arrives within ~20 ms of the
  // start, and children whose handlers run while another process holds a
  // shared-memory lock hang on it; either way the main process waits for
  // them forever. A test registrar has nothing to flush, so: SIGKILL the
  // children; the main process reaps them, sees them gone ("terminating due
  // to SIGCHLD") and exits (~3 ms). SIGKILL to the group if it does not.
  if (paused_) kill(-group, SIGCONT);  // The main process must run to reap.
  absl::Time deadline = absl::Now() + kExitTimeout;
  bool reaped = false;
  while (!reaped && absl::Now() < deadline) {
    for (const ProcState& p : GroupMembers(group)) {
      if (p.pid != group) kill(p.pid, SIGKILL);
    }
    reaped = ReapWithin(group, absl::Milliseconds(10));
  }
  if (!reaped) {
    std::cerr << "KamailioServer: kamailio pid " << group
              << " did not exit within " << kExitTimeout
              << " of its children's SIGKILL; SIGKILL\n";
    kill(-group, SIGKILL);
    if (!ReapWithin(group, kKillTimeout)) {
      std::cerr << "KamailioServer: kamailio pid " << group
                << " survived SIGKILL for " << kKillTimeout << "\n";
    }
  }
  // Children left behind (only if the main process was killed) still hold
  // the group id, so this cannot hit a recycled group.
  if (!GroupMembers(group).empty()) {
    kill(-group, SIGKILL);
    if (!WaitForGroup(group, kKillTimeout,
                      [](const auto& m) { return m.empty(); })) {
      std::cerr << "KamailioServer: processes of group " << group
                << " survived SIGKILL\n";
    }
  }
  pid_ = -1;
  paused_ = false;
  ReleaseGuardian();
}

void KamailioServer::Pause() {
  if (pid_ <= 0 || paused_) return;
  kill(-pid_, SIGSTOP);
  // Every process, not just the main one: the UDP and TCP receivers answer
  // on their own. Wait until the kernel has stopped them all.
  if (!WaitForGroup(pid_, kPauseTimeout, [](const auto& members) {
        for (const ProcState& p : members) {
          if (p.state != 'T' && p.state != 't') return false;
        }
        return true;
      })) {
    std::cerr << "KamailioServer: not every process of group " << pid_
              << " stopped within " << kPauseTimeout << "\n";
  }
  paused_ = true;
}

void KamailioServer::Resume() {
  if (pid_ <= 0 || !paused_) return;
  kill(-pid_, SIGCONT);
  paused_ = false;
}

std::vector<pid_t> KamailioServer::ProcessIds() const {
  std::vector<pid_t> pids;
  if (pid_ <= 0) return pids;
  for (const ProcState& p : GroupMembers(pid_)) {
    if (p.pid == pid_) {
      pids.insert(pids.begin(), p.pid);
    } else {
      pids.push_back(p.pid);
    }
  }
  return pids;
}

std::vector<SipRequestRecord> KamailioServer::Requests() const {
  std::vector<SipRequestRecord> out;
  std::string log = ReadFile(log_path_, log_offset_);
  log.erase(log.rfind('\n') + 1);  // Not a line being written right now.
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    // " 1(4242) NOTICE: <script>: REQ REGISTER udp 127.0.0.1:40000 alice"
    size_t pos = line.find(kRequestTag);
    if (pos == absl::string_view::npos) continue;
    std::vector<std::string> f =
        absl::StrSplit(line.substr(pos + strlen(kRequestTag)), ' ');
    if (f.size() != 4) continue;
    out.push_back({f[0], f[1], f[2], f[3]});
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

void KamailioServer::ResetRequestCounts() { log_offset_ = FileSize(log_path_); }

std::string KamailioServer::ReadLog() const { return ReadFile(log_path_); }

}  // namespace sipresolver::testing
