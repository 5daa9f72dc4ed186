#include "tests/support/coturn_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <utility>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace sipresolver::testing {
namespace {

constexpr char kTurnserverPath[] = "/usr/bin/turnserver";
constexpr char kBindingLine[] = "BINDING processed";
constexpr char kEndpointLine[] = "New UDP endpoint:";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kProbeInterval = absl::Milliseconds(20);
constexpr absl::Duration kDrainTimeout = absl::Seconds(1);
constexpr absl::Duration kTermTimeout = absl::Seconds(2);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);
constexpr int kStartAttempts = 5;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// 127.0.0.1 or ::1 with `port`, as a sockaddr for bind/connect.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = AF_INET;
};

SockAddr MakeAddr(const std::string& ip, uint16_t port) {
  SockAddr a;
  if (ip.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr);
    a.len = sizeof(*v6);
    a.family = AF_INET6;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &v4->sin_addr);
    a.len = sizeof(*v4);
  }
  return a;
}

// A UDP port of `ip` that was free a moment ago.
absl::StatusOr<uint16_t> PickFreeUdpPort(const std::string& ip) {
  SockAddr a = MakeAddr(ip, 0);
  Fd fd(socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      bind(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), a.len) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), &a.len) !=
          0) {
    return absl::InternalError(
        absl::StrCat("bind(UDP ", ip, ":0): ", strerror(errno)));
  }
  return a.family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port);
}

// One readiness probe: a Binding request from its own connected socket, so
// that an ICMP unreachable (coturn not bound yet) shows as ECONNREFUSED.
// Written by hand rather than with lib/nat, so the fixture does not depend
// on the code it tests.
struct Probe {
  Fd fd;
  std::string transaction_id;  // 12 bytes.
};

std::optional<Probe> SendProbe(const std::string& ip, uint16_t port,
                               std::mt19937_64& rng) {
  SockAddr a = MakeAddr(ip, port);
  Fd fd(socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0 ||
      connect(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), a.len) != 0) {
    return std::nullopt;
  }
  std::string id(12, '\0');
  for (char& c : id) c = static_cast<char>(rng());
  std::string request("\x00\x01\x00\x00\x21\x12\xA4\x42", 8);
  request += id;
  if (send(fd.get(), request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  return Probe{std::move(fd), id};
}

enum class ProbeState { kPending, kAnswered, kRefused };

// Reads what has arrived for `probe`, without blocking.
ProbeState Poll(const Probe& probe) {
  char buf[1500];
  while (true) {
    ssize_t n = recv(probe.fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      return errno == ECONNREFUSED ? ProbeState::kRefused
                                   : ProbeState::kPending;
    }
    // A Binding success response with our transaction id.
    if (n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 &&
        std::string(buf + 8, 12) == probe.transaction_id) {
      return ProbeState::kAnswered;
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

bool ReapWithin(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

// Whether every thread of `pid` is stopped (state T or t).
bool AllThreadsStopped(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return true;  // Gone.
  bool stopped = true;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string stat = ReadFile(absl::StrCat(dir, "/", e->d_name, "/stat"));
    const size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() &&
        stat[paren + 2] != 'T' && stat[paren + 2] != 't') {
      stopped = false;
    }
  }
  closedir(d);
  return stopped;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoturnServer>> CoturnServer::Start(
    const CoturnConfig& config) {
  if (config.listen_ip != "127.0.0.1" && config.listen_ip != "::1") {
    return absl::InvalidArgumentError(
        "listen_ip: only 127.0.0.1 and ::1 (tests stay on loopback)");
  }
  std::unique_ptr<CoturnServer> server(new CoturnServer());
  server->ip_ = config.listen_ip;
  const char* base = getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string dir = absl::StrCat(base, "/coturn.XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", dir, ": ", strerror(errno)));
  }
  server->dir_ = dir;
  server->log_path_ = dir + "/turnserver.log";
  server->output_path_ = dir + "/turnserver.out";

  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreeUdpPort(server->ip_);
    if (!port.ok()) return port.status();
    server->port_ = *port;
    last = server->Launch();
    if (last.ok()) return server;
    // Another process took the port between the check and coturn's bind.
    if (!absl::StrContains(last.message(), "Cannot bind")) break;
  }
  return last;
}

CoturnServer::~CoturnServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string CoturnServer::address() const {
  return ip_.find(':') != std::string::npos
             ? absl::StrCat("[", ip_, "]:", port_)
             : absl::StrCat(ip_, ":", port_);
}

absl::Status CoturnServer::Launch() {
  std::vector<std::string> args = {
      kTurnserverPath,
      "-n",  // No configuration file (/etc/turnserver.conf).
      "--stun-only", "--no-cli", "--no-tcp", "--no-tls", "--no-dtls",
      "--no-rfc5780",
      absl::StrCat("--listening-ip=", ip_),
      absl::StrCat("--listening-port=", port_),
      absl::StrCat("--log-file=", log_path_),
      "--simple-log",  // Exactly that file name, no pid/date suffix.
      "--no-stdout-log",
      "--log-binding",  // Binding requests are not logged otherwise...
      "-v",             // ...nor new client endpoints.
      absl::StrCat("--pidfile=", dir_, "/turnserver.pid"),
      absl::StrCat("--db=", dir_, "/turndb"),
  };
  // Everything the child needs is prepared before fork().
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const size_t log_start = FileSize(log_path_);
  Fd out(open(output_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
              0644));
  Fd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (out.get() < 0 || null_fd.get() < 0) {
    return absl::InternalError(
        absl::StrCat("open ", output_path_, ": ", strerror(errno)));
  }
  sigset_t no_signals;
  sigemptyset(&no_signals);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(null_fd.get(), 0);
    dup2(out.get(), 1);
    dup2(out.get(), 2);
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);  // Unblock what ctest blocked.
    execv(kTurnserverPath, argv.data());
    _exit(127);
  }
  pid_ = pid;
  paused_ = false;

  auto failure = [&](absl::Status status, absl::string_view why) {
    return absl::Status(
        status.code(),
        absl::StrCat(absl::StrJoin(args, " "), ": ", why,
                     "; output: ", ReadFile(output_path_),
                     "; log: ", ReadFile(log_path_, log_start)));
  };
  std::mt19937_64 rng(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  std::vector<Probe> pending;  // Sent, neither answered nor refused yet.
  const absl::Time deadline = absl::Now() + kStartTimeout;
  bool answered = false;
  while (!answered) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return failure(absl::InternalError(""), "exited during start");
    }
    if (absl::StrContains(ReadFile(log_path_, log_start), "Cannot bind")) {
      Stop();  // coturn would retry the bind forever.
      return failure(absl::UnavailableError(""), "Cannot bind (port in use)");
    }
    if (absl::Now() >= deadline) {
      Stop();
      return failure(absl::DeadlineExceededError(""),
                     absl::StrCat("no STUN answer within ",
                                  absl::FormatDuration(kStartTimeout)));
    }
    if (std::optional<Probe> p = SendProbe(ip_, port_, rng)) {
      pending.push_back(std::move(*p));
    }
    absl::SleepFor(kProbeInterval);
    for (auto it = pending.begin(); it != pending.end();) {
      const ProbeState state = Poll(*it);
      answered = answered || state == ProbeState::kAnswered;
      it = state == ProbeState::kPending ? it + 1 : pending.erase(it);
    }
  }
  // Probes sent before the answered one may still sit in coturn's socket:
  // wait until each is answered (or refused) so none is counted later.
  const absl::Time drain_deadline = absl::Now() + kDrainTimeout;
  while (!pending.empty() && absl::Now() < drain_deadline) {
    absl::SleepFor(absl::Milliseconds(2));
    for (auto it = pending.begin(); it != pending.end();) {
      it = Poll(*it) == ProbeState::kPending ? it + 1 : pending.erase(it);
    }
  }
  ResetCounts();
  return absl::OkStatus();
}

void CoturnServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // A stopped process acts on SIGTERM only once resumed.
  if (!ReapWithin(pid_, kTermTimeout)) {
    kill(pid_, SIGKILL);
    if (!ReapWithin(pid_, kKillTimeout)) {
      std::cerr << "CoturnServer: turnserver pid " << pid_
                << " survived SIGKILL for " << kKillTimeout << "\n";
    }
  }
  pid_ = -1;
  paused_ = false;
}

void CoturnServer::Pause() {
  if (pid_ <= 0 || paused_) return;
  kill(pid_, SIGSTOP);
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (!AllThreadsStopped(pid_) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  paused_ = true;
}

void CoturnServer::Resume() {
  if (pid_ <= 0 || !paused_) return;
  kill(pid_, SIGCONT);
  paused_ = false;
}

int CoturnServer::CountBindingRequests() const {
  std::string log = ReadFile(log_path_, log_offset_);
  int count = 0;
  for (size_t at = log.find(kBindingLine); at != std::string::npos;
       at = log.find(kBindingLine, at + 1)) {
    ++count;
  }
  return count;
}

bool CoturnServer::WaitForBindingRequests(int n, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (CountBindingRequests() >= n) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

std::vector<std::string> CoturnServer::ClientEndpoints() const {
  // "1: : handle_udp_packet: New UDP endpoint: local addr 127.0.0.1:3478,
  // remote addr 127.0.0.1:40000"
  std::vector<std::string> out;
  std::string log = ReadFile(log_path_, log_offset_);
  log.erase(log.rfind('\n') + 1);  // Not a line being written right now.
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, kEndpointLine)) continue;
    const size_t at = line.rfind("remote addr ");
    if (at == absl::string_view::npos) continue;
    out.emplace_back(absl::StripAsciiWhitespace(line.substr(at + 12)));
  }
  return out;
}

void CoturnServer::ResetCounts() { log_offset_ = FileSize(log_path_); }

std::string CoturnServer::ReadLog() const { return ReadFile(log_path_); }

}  // namespace sipresolver::testing
