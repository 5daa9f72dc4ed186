#include "tests/support/dnsmasq_server.h"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/loopback.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {
namespace {

constexpr char kDnsmasqPath[] = "/usr/sbin/dnsmasq";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

std::string Normalize(absl::string_view name) {
  absl::ConsumeSuffix(&name, ".");
  return absl::AsciiStrToLower(name);
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
    ScopedFd servfail(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ScopedFd silent(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const uint16_t servfail_port =
        servfail.valid() ? BindLoopback(servfail.get(), 0) : 0;
    const uint16_t silent_port =
        silent.valid() ? BindLoopback(silent.get(), 0) : 0;
    if (servfail_port == 0 || silent_port == 0) {
      return absl::InternalError(
          absl::StrCat("upstream socket: ", strerror(errno)));
    }
    return std::unique_ptr<Upstream>(new Upstream(
        std::move(servfail), servfail_port, std::move(silent), silent_port));
  }
  ~Upstream() {
    stop_ = true;
    thread_.join();  // Bounded: the thread polls with a 20 ms timeout.
  }
  uint16_t servfail_port() const { return servfail_port_; }
  uint16_t silent_port() const { return silent_port_; }

 private:
  Upstream(ScopedFd servfail, uint16_t servfail_port, ScopedFd silent,
           uint16_t silent_port)
      : servfail_fd_(std::move(servfail)),
        servfail_port_(servfail_port),
        silent_fd_(std::move(silent)),
        silent_port_(silent_port),
        thread_([this] { Serve(); }) {}

  void Serve() {
    while (!stop_) {
      pollfd p{servfail_fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      unsigned char buf[4096];
      sockaddr_storage from;
      socklen_t from_len = sizeof(from);
      ssize_t n = recvfrom(servfail_fd_.get(), buf, sizeof(buf), MSG_DONTWAIT,
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
      sendto(servfail_fd_.get(), buf, pos, 0,
             reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }

  ScopedFd servfail_fd_;
  uint16_t servfail_port_;
  ScopedFd silent_fd_;  // Never read.
  uint16_t silent_port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<DnsmasqServer>> DnsmasqServer::Start(
    const DnsZone& zone) {
  absl::StatusOr<TempDir> dir = TempDir::Create("dnsmasq");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<DnsmasqServer> server(new DnsmasqServer(*std::move(dir)));
  absl::Status s =
      StartOnFreePort(PickFreeUdpTcpPort, "in use", [&](uint16_t port) {
        server->port_ = port;
        absl::Status s = server->WriteConfig(zone);
        return s.ok() ? server->Launch() : s;
      });
  if (!s.ok()) return s;
  return server;
}

DnsmasqServer::DnsmasqServer(TempDir dir)
    : dir_(std::move(dir)),
      config_path_(dir_.File("dnsmasq.conf")),
      log_(dir_.File("dnsmasq.log")),
      stderr_(dir_.File("dnsmasq.stderr")) {}

DnsmasqServer::~DnsmasqServer() {
  Stop();
  upstream_.reset();
}  // Then dir_ goes, and the files with it.

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
      absl::StrCat("log-facility=", log_.path()),
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
  // -k: foreground; SIGTERM exits.
  return process_.StartAndWaitUntilReady(
      {{kDnsmasqPath, "-k", "-C", config_path_}, "", stderr_.path()},
      // Ours, not whatever took the port between the pick and dnsmasq's
      // bind: even this fixture's own SERVFAIL upstream (bound after the
      // pick) answers a DNS query, and did so in CI.
      [this] {
        return DnsServerAnswers(port_, absl::Milliseconds(100)) &&
               ListensOnTcp(process_.pid(), port_);
      },
      kStartTimeout, absl::Milliseconds(10));
}

absl::Status DnsmasqServer::Restart(const DnsZone& zone) {
  Stop();
  if (absl::Status s = WriteConfig(zone); !s.ok()) return s;
  return Launch();
}

void DnsmasqServer::Stop() { process_.Stop(); }

void DnsmasqServer::Pause() { process_.Pause(); }

void DnsmasqServer::Resume() { process_.Resume(); }

int DnsmasqServer::CountQueries(absl::string_view name,
                                absl::string_view type) const {
  const std::string want_name = Normalize(name);
  const std::string log = log_.ReadSinceMark();
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

void DnsmasqServer::ResetQueryCounts() { log_.Mark(); }

std::string DnsmasqServer::ReadLog() const { return log_.Read(); }

}  // namespace sipresolver::testing
