#include "tests/support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {

LoopbackAddress::LoopbackAddress(uint16_t port, absl::string_view ip) {
  const std::string text(ip);
  if (ip.find(':') != absl::string_view::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr);
    size = sizeof(*v6);
    family = AF_INET6;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    inet_pton(AF_INET, text.c_str(), &v4->sin_addr);
    size = sizeof(*v4);
    family = AF_INET;
  }
}

uint16_t BindLoopback(int fd, uint16_t port, absl::string_view ip) {
  LoopbackAddress addr(port, ip);
  if (bind(fd, addr.get(), addr.size) != 0 ||
      getsockname(fd, addr.get(), &addr.size) != 0) {
    return 0;
  }
  return addr.family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr.storage)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&addr.storage)->sin_port);
}

uint16_t PickFreePort() {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd.valid() ? BindLoopback(fd.get(), 0) : 0;
}

absl::StatusOr<uint16_t> PickFreeUdpPort(absl::string_view ip) {
  const int family =
      ip.find(':') != absl::string_view::npos ? AF_INET6 : AF_INET;
  ScopedFd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const uint16_t port = fd.valid() ? BindLoopback(fd.get(), 0, ip) : 0;
  if (port == 0) {
    return absl::InternalError(
        absl::StrCat("bind(UDP ", ip, ":0): ", strerror(errno)));
  }
  return port;
}

absl::StatusOr<uint16_t> PickFreeUdpTcpPort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    ScopedFd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ScopedFd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!udp.valid() || !tcp.valid()) {
      return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
    }
    const uint16_t port = BindLoopback(udp.get(), 0);
    if (port == 0) {
      return absl::InternalError(
          absl::StrCat("bind(UDP 127.0.0.1:0): ", strerror(errno)));
    }
    int one = 1;
    setsockopt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (BindLoopback(tcp.get(), port) == port) return port;
  }
  return absl::UnavailableError("no free UDP+TCP port on 127.0.0.1");
}

bool UdpProbe(uint16_t port,
              absl::FunctionRef<std::string(uint16_t local_port)> request,
              absl::FunctionRef<bool(absl::string_view datagram)> is_reply,
              absl::Duration wait) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const uint16_t local_port = fd.valid() ? BindLoopback(fd.get(), 0) : 0;
  LoopbackAddress addr(port);
  if (local_port == 0 || connect(fd.get(), addr.get(), addr.size) != 0) {
    return false;
  }
  const std::string message = request(local_port);
  if (send(fd.get(), message.data(), message.size(), 0) !=
      static_cast<ssize_t>(message.size())) {
    return false;
  }
  const absl::Time deadline = absl::Now() + wait;
  while (true) {
    const int ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) return false;
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) return false;  // ECONNREFUSED: not listening yet.
    if (is_reply(absl::string_view(buf, static_cast<size_t>(n)))) return true;
  }
}

namespace {

// Inodes of the sockets listening on TCP `port` (lines of /proc/net/tcp and
// tcp6: "sl local_address rem_address st ... uid timeout inode", the
// address as HEX_IP:HEX_PORT, state 0A = LISTEN).
std::set<std::string> TcpListenerInodes(uint16_t port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // Header.
    while (std::getline(in, line)) {
      std::vector<absl::string_view> f =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 10 || f[3] != "0A") continue;
      const size_t colon = f[1].rfind(':');
      uint32_t local_port = 0;
      if (colon == absl::string_view::npos ||
          !absl::SimpleHexAtoi(f[1].substr(colon + 1), &local_port) ||
          local_port != port) {
        continue;
      }
      inodes.emplace(f[9]);
    }
  }
  return inodes;
}

}  // namespace

bool ListensOnTcp(pid_t pid, uint16_t port) {
  const std::set<std::string> inodes = TcpListenerInodes(port);
  if (inodes.empty()) return false;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/fd"), ec)) {
    const std::string target = std::filesystem::read_symlink(fd, ec);
    // "socket:[INODE]"
    if (!ec && absl::StartsWith(target, "socket:[") &&
        inodes.count(target.substr(8, target.size() - 9)) > 0) {
      return true;
    }
  }
  return false;
}

absl::Status StartOnFreePort(absl::FunctionRef<absl::StatusOr<uint16_t>()> pick,
                             absl::string_view clash,
                             absl::FunctionRef<absl::Status(uint16_t)> start) {
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<uint16_t> port = pick();
    if (!port.ok()) return port.status();
    last = start(*port);
    if (last.ok() || !absl::StrContains(last.message(), clash)) break;
  }
  return last;
}

namespace {

std::string VersionBindQuery(uint16_t id) {
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

}  // namespace

bool DnsServerAnswers(uint16_t port, absl::Duration wait) {
  static std::atomic<uint16_t> next_id{0x4d51};
  const uint16_t id = ++next_id;
  return UdpProbe(
      port, [id](uint16_t) { return VersionBindQuery(id); },
      [id](absl::string_view reply) {
        return reply.size() >= 12 &&
               static_cast<uint8_t>(reply[0]) == (id >> 8) &&
               static_cast<uint8_t>(reply[1]) == (id & 0xff) &&
               (reply[2] & 0x80) != 0;  // QR: a response.
      },
      wait);
}

}  // namespace sipresolver::testing
