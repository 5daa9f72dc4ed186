#include "tests/support/dnsmasq_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace sipresolver::testing {
namespace {

constexpr char kDnsmasqPath[] = "/usr/sbin/dnsmasq";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kTermTimeout = absl::Seconds(2);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);
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

// A UDP socket bound to 127.0.0.1 on an ephemeral port.
absl::StatusOr<std::pair<int, uint16_t>> BindUdp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("bind: ", strerror(err)));
  }
  return std::make_pair(fd, ntohs(addr.sin_port));
}

// A port of 127.0.0.1 free for both UDP and TCP right now.
absl::StatusOr<uint16_t> PickFreePort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto udp = BindUdp();
    if (!udp.ok()) return udp.status();
    Fd udp_fd(udp->first);
    Fd tcp_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (tcp_fd.get() < 0) return absl::InternalError("socket(TCP) failed");
    int one = 1;  // dnsmasq sets SO_REUSEADDR too.
    setsockopt(tcp_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr = Loopback(udp->second);
    if (bind(tcp_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
        0) {
      return udp->second;
    }
  }
  return absl::UnavailableError("no free UDP+TCP port on 127.0.0.1");
}

// A DNS query for version.bind TXT CH, which dnsmasq answers itself.
std::string ProbeQuery(uint16_t id) {
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  q += std::string(
      "\x07version\x04"
      "bind\x00",
      14);
  q += std::string("\x00\x10\x00\x03", 4);  // TXT, CH
  return q;
}

// Sends one probe; true if dnsmasq answered within `wait`.
bool Probe(uint16_t port, absl::Duration wait) {
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  sockaddr_in addr = Loopback(port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return false;
  }
  static uint16_t next_id = 0x4d51;
  uint16_t id = ++next_id;
  std::string q = ProbeQuery(id);
  if (send(fd.get(), q.data(), q.size(), 0) != static_cast<ssize_t>(q.size())) {
    return false;
  }
  absl::Time deadline = absl::Now() + wait;
  while (true) {
    int ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) return false;
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    unsigned char buf[512];
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) return false;  // e.g. ECONNREFUSED: not listening yet.
    if (n >= 12 && buf[0] == (id >> 8) && buf[1] == (id & 0xff) &&
        (buf[2] & 0x80) != 0) {
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

std::string Normalize(absl::string_view name) {
  absl::ConsumeSuffix(&name, ".");
  return absl::AsciiStrToLower(name);
}

// Polls waitpid for up to `timeout`; true once the child has been reaped.
bool ReapWithin(pid_t pid, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::Status CheckValue(absl::string_view what, absl::string_view value) {
  if (value.empty() ||
      value.find_first_of("\n\r,/# ") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("DnsZone: bad ", what, " \"", absl::CEscape(value), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

// Two loopback UDP sockets dnsmasq can forward to: one answered SERVFAIL by a
// thread, one never read (dnsmasq then never answers the client over UDP).
class DnsmasqServer::Upstream {
 public:
  static absl::StatusOr<std::unique_ptr<Upstream>> Create() {
    auto servfail = BindUdp();
    if (!servfail.ok()) return servfail.status();
    auto silent = BindUdp();
    if (!silent.ok()) {
      close(servfail->first);
      return silent.status();
    }
    return std::unique_ptr<Upstream>(new Upstream(*servfail, *silent));
  }
  ~Upstream() {
    stop_ = true;
    thread_.join();  // Bounded: the thread polls with a 20 ms timeout.
    close(servfail_fd_);
    close(silent_fd_);
  }
  uint16_t servfail_port() const { return servfail_port_; }
  uint16_t silent_port() const { return silent_port_; }

 private:
  Upstream(std::pair<int, uint16_t> servfail, std::pair<int, uint16_t> silent)
      : servfail_fd_(servfail.first),
        servfail_port_(servfail.second),
        silent_fd_(silent.first),
        silent_port_(silent.second),
        thread_([this] { Serve(); }) {}

  void Serve() {
    while (!stop_) {
      pollfd p{servfail_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      unsigned char buf[4096];
      sockaddr_storage from;
      socklen_t from_len = sizeof(from);
      ssize_t n = recvfrom(servfail_fd_, buf, sizeof(buf), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 12 || (buf[2] & 0x80) != 0) continue;
      // Keep the header and the first question; drop the rest (EDNS OPT).
      size_t pos = 12;
      if (buf[4] == 0 && buf[5] == 1) {
        while (pos < static_cast<size_t>(n) && buf[pos] != 0 && buf[pos] < 64) {
          pos += buf[pos] + 1;
        }
        pos += 1 + 4;  // Root label, QTYPE, QCLASS.
        if (pos > static_cast<size_t>(n)) continue;
      } else {
        buf[4] = buf[5] = 0;
      }
      buf[2] = 0x80 | (buf[2] & 0x79);  // QR, keep opcode and RD.
      buf[3] = 0x80 | 2;                // RA, RCODE=SERVFAIL.
      std::memset(buf + 6, 0, 6);       // No answer/authority/additional.
      sendto(servfail_fd_, buf, pos, 0, reinterpret_cast<sockaddr*>(&from),
             from_len);
    }
  }

  int servfail_fd_;
  uint16_t servfail_port_;
  int silent_fd_;
  uint16_t silent_port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<DnsmasqServer>> DnsmasqServer::Start(
    const DnsZone& zone) {
  std::unique_ptr<DnsmasqServer> server(new DnsmasqServer());
  const char* base = getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string templ = absl::StrCat(base, "/dnsmasq.XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  server->dir_ = templ;
  server->config_path_ = templ + "/dnsmasq.conf";
  server->log_path_ = templ + "/dnsmasq.log";
  server->stderr_path_ = templ + "/dnsmasq.stderr";

  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreePort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    if (absl::Status s = server->WriteConfig(zone); !s.ok()) return s;
    last = server->Launch();
    if (last.ok()) return server;
    // Another process may have taken the port between the check and
    // dnsmasq's bind; anything else is not worth retrying.
    if (!absl::StrContains(last.message(), "in use")) break;
  }
  return last;
}

DnsmasqServer::~DnsmasqServer() {
  Stop();
  upstream_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string DnsmasqServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status DnsmasqServer::WriteConfig(const DnsZone& zone) {
  if (absl::Status s = CheckValue("domain", zone.domain); !s.ok()) return s;
  if (zone.authoritative &&
      (!zone.servfail_domains.empty() || !zone.silent_domains.empty())) {
    // The auth engine answers everything arriving on 127.0.0.1 itself
    // (NXDOMAIN inside the zone, REFUSED outside) and never forwards.
    return absl::InvalidArgumentError(
        "DnsZone: servfail/silent domains need authoritative = false");
  }
  std::vector<std::string> lines = {
      absl::StrCat("port=", port_),
      "listen-address=127.0.0.1",
      "bind-interfaces",
      "no-resolv",
      "no-hosts",
      "no-poll",
      "pid-file=",
      absl::StrCat("local=/", zone.domain, "/"),
      absl::StrCat("local-ttl=", zone.ttl),
      "log-queries",
      absl::StrCat("log-facility=", log_path_),
  };
  // Keep dnsmasq's credentials: by default it switches to user "nobody" and
  // group "dip", and any change of effective uid/gid clears the
  // PR_SET_PDEATHSIG that kills it when the test dies. As a non-root user
  // these lines change nothing.
  if (geteuid() == 0) lines.push_back("user=root");
  if (const group* g = getgrgid(getegid()); g != nullptr) {
    lines.push_back(absl::StrCat("group=", g->gr_name));
  }
  if (zone.authoritative) {
    lines.push_back(absl::StrCat("auth-server=ns.", zone.domain, ",127.0.0.1"));
    lines.push_back(absl::StrCat("auth-zone=", zone.domain));
    lines.push_back(absl::StrCat("auth-ttl=", zone.ttl));
  }
  for (const HostRecord& h : zone.hosts) {
    if (absl::Status s = CheckValue("host name", h.name); !s.ok()) return s;
    if (h.addresses.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("DnsZone: host ", h.name, " has no address"));
    }
    for (const std::string& a : h.addresses) {
      if (absl::Status s = CheckValue("address", a); !s.ok()) return s;
    }
    // One line per address: a host-record line holds at most one IPv4 and
    // one IPv6 address (a second IPv4 replaces the first).
    for (const std::string& a : h.addresses) {
      std::string line = absl::StrCat("host-record=", h.name, ",", a);
      if (h.ttl) absl::StrAppend(&line, ",", *h.ttl);
      lines.push_back(line);
    }
  }
  for (const SrvHost& s : zone.srv) {
    if (absl::Status st = CheckValue("SRV name", s.name); !st.ok()) return st;
    if (absl::Status st = CheckValue("SRV target", s.target); !st.ok())
      return st;
    lines.push_back(absl::StrCat("srv-host=", s.name, ",", s.target, ",",
                                 s.port, ",", s.priority, ",", s.weight));
  }
  for (const CnameRecord& c : zone.cnames) {
    if (absl::Status s = CheckValue("CNAME alias", c.alias); !s.ok()) return s;
    if (absl::Status s = CheckValue("CNAME target", c.target); !s.ok())
      return s;
    std::string line = absl::StrCat("cname=", c.alias, ",", c.target);
    if (c.ttl) absl::StrAppend(&line, ",", *c.ttl);
    lines.push_back(line);
  }
  if ((!zone.servfail_domains.empty() || !zone.silent_domains.empty()) &&
      upstream_ == nullptr) {
    auto upstream = Upstream::Create();
    if (!upstream.ok()) return upstream.status();
    upstream_ = *std::move(upstream);
  }
  for (const std::string& d : zone.servfail_domains) {
    if (absl::Status s = CheckValue("servfail domain", d); !s.ok()) return s;
    lines.push_back(
        absl::StrCat("server=/", d, "/127.0.0.1#", upstream_->servfail_port()));
  }
  for (const std::string& d : zone.silent_domains) {
    if (absl::Status s = CheckValue("silent domain", d); !s.ok()) return s;
    lines.push_back(
        absl::StrCat("server=/", d, "/127.0.0.1#", upstream_->silent_port()));
  }
  for (const std::string& l : zone.extra_lines) lines.push_back(l);

  std::ofstream out(config_path_, std::ios::trunc);
  out << absl::StrJoin(lines, "\n") << "\n";
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", config_path_));
  }
  return absl::OkStatus();
}

absl::Status DnsmasqServer::Launch() {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls.
  std::string conf = config_path_;
  char arg0[] = "dnsmasq";
  char arg1[] = "-k";  // Foreground; SIGTERM exits.
  char arg2[] = "-C";
  char* argv[] = {arg0, arg1, arg2, conf.data(), nullptr};
  int err_fd = open(stderr_path_.c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", stderr_path_, ": ", strerror(errno)));
  }
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(err_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(e)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
    }
    dup2(err_fd, 2);
    execv(kDnsmasqPath, argv);
    _exit(127);
  }
  close(err_fd);
  if (null_fd >= 0) close(null_fd);
  pid_ = pid;
  paused_ = false;

  absl::Time deadline = absl::Now() + kStartTimeout;
  while (true) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string why = WIFEXITED(status)
                            ? absl::StrCat("exit status ", WEXITSTATUS(status))
                            : absl::StrCat("signal ", WTERMSIG(status));
      return absl::InternalError(
          absl::StrCat(kDnsmasqPath, " -k -C ", config_path_, " failed (", why,
                       "); stderr: ", ReadFile(stderr_path_)));
    }
    if (Probe(port_, absl::Milliseconds(100))) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      Stop();
      return absl::DeadlineExceededError(
          absl::StrCat("dnsmasq did not answer on ", address(), " within ",
                       absl::FormatDuration(kStartTimeout),
                       "; stderr: ", ReadFile(stderr_path_)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::Status DnsmasqServer::Restart(const DnsZone& zone) {
  Stop();
  if (absl::Status s = WriteConfig(zone); !s.ok()) return s;
  return Launch();
}

void DnsmasqServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // A stopped process only acts on SIGTERM once resumed.
  if (!ReapWithin(pid_, kTermTimeout)) {
    kill(pid_, SIGKILL);
    if (!ReapWithin(pid_, kKillTimeout)) {
      std::cerr << "DnsmasqServer: dnsmasq pid " << pid_
                << " survived SIGKILL for " << kKillTimeout << "\n";
    }
  }
  pid_ = -1;
  paused_ = false;
}

void DnsmasqServer::Pause() {
  if (pid_ > 0 && !paused_) {
    kill(pid_, SIGSTOP);
    // Wait (bounded) until the stop has taken effect, so that queries sent
    // after Pause() returns are certainly not answered.
    absl::Time deadline = absl::Now() + absl::Seconds(2);
    while (absl::Now() < deadline) {
      std::ifstream stat(absl::StrCat("/proc/", pid_, "/stat"));
      std::string line;
      std::getline(stat, line);
      size_t paren = line.rfind(')');
      if (paren == std::string::npos || paren + 2 >= line.size() ||
          line[paren + 2] == 'T') {
        break;
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    paused_ = true;
  }
}

void DnsmasqServer::Resume() {
  if (pid_ > 0 && paused_) {
    kill(pid_, SIGCONT);
    paused_ = false;
  }
}

int DnsmasqServer::CountQueries(absl::string_view name,
                                absl::string_view type) const {
  const std::string want_name = Normalize(name);
  const std::string log = ReadFile(log_path_, log_offset_);
  int count = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    // "... dnsmasq[PID]: query[SRV] _sip._udp.x.test from 127.0.0.1"
    // ("auth[SRV] ..." in authoritative mode; log-queries=extra inserts a
    // serial number and the client address before "query[").
    size_t pos = line.find(" query[");
    size_t skip = 7;
    if (pos == absl::string_view::npos) {
      pos = line.find(" auth[");
      skip = 6;
    }
    if (pos == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(pos + skip);
    size_t close = rest.find("] ");
    if (close == absl::string_view::npos) continue;
    absl::string_view got_type = rest.substr(0, close);
    rest.remove_prefix(close + 2);
    size_t from = rest.find(" from ");
    if (from == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(got_type, type) &&
        Normalize(rest.substr(0, from)) == want_name) {
      ++count;
    }
  }
  return count;
}

bool DnsmasqServer::WaitForQueries(absl::string_view name,
                                   absl::string_view type, int n,
                                   absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (CountQueries(name, type) >= n) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void DnsmasqServer::ResetQueryCounts() { log_offset_ = FileSize(log_path_); }

std::string DnsmasqServer::ReadLog() const { return ReadFile(log_path_); }

}  // namespace sipresolver::testing
