// Loopback sockets for test servers and clients: every test stays on
// 127.0.0.1 or ::1, and fixtures start servers on ports that were free a
// moment before. Such a port can be taken by another process before the
// server binds it, so fixtures start servers with StartOnFreePort.
#ifndef SIPRESOLVER_TESTS_SUPPORT_LOOPBACK_H_
#define SIPRESOLVER_TESTS_SUPPORT_LOOPBACK_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sipresolver::testing {

// `ip`:`port` as a socket address for bind, connect or sendto. `ip` is
// "127.0.0.1" or "::1" (any text with a ':' is read as IPv6).
struct LoopbackAddress {
  explicit LoopbackAddress(uint16_t port, absl::string_view ip = "127.0.0.1");
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }

  sockaddr_storage storage{};
  socklen_t size = 0;
  int family = AF_INET;
};

// Binds `fd` to `ip`:`port` (0: an ephemeral port) and returns the port it
// got, or 0 on failure (errno tells why).
uint16_t BindLoopback(int fd, uint16_t port,
                      absl::string_view ip = "127.0.0.1");

// A TCP port of 127.0.0.1 that was free a moment ago (0 if none).
uint16_t PickFreePort();

// A UDP port of `ip` that was free a moment ago.
absl::StatusOr<uint16_t> PickFreeUdpPort(absl::string_view ip = "127.0.0.1");

// A port of 127.0.0.1 free for both UDP and TCP right now, for servers that
// listen on both with one number. The TCP check sets SO_REUSEADDR, as such
// servers do, so a port whose old connections linger in TIME_WAIT counts as
// free.
absl::StatusOr<uint16_t> PickFreeUdpTcpPort();

// Whether process `pid` holds the TCP socket listening on `port` (any
// address; read from /proc). A server that lost its port to another socket
// bound between the pick and its own bind sees its readiness probe answered
// by that socket's owner; for servers that also listen on TCP, which two
// processes cannot share, this tells whose answer it was.
bool ListensOnTcp(pid_t pid, uint16_t port);

// One request/reply over UDP, as readiness probes use it: sends
// `request(local_port)` from a socket of 127.0.0.1 connected to `port`, and
// waits up to `wait` for a datagram that `is_reply` accepts. False on
// timeout, or at once when nothing listens on `port` yet (ICMP refusal).
bool UdpProbe(uint16_t port,
              absl::FunctionRef<std::string(uint16_t local_port)> request,
              absl::FunctionRef<bool(absl::string_view datagram)> is_reply,
              absl::Duration wait);

// Sends a DNS query for version.bind TXT CH (which dnsmasq and BIND answer
// themselves) to `port`; true if a response came within `wait`. Readiness
// probe of the DNS server fixtures.
bool DnsServerAnswers(uint16_t port, absl::Duration wait);

// Starts a server on a port from `pick`: calls `start(port)` with a new
// port, up to 5 times, while it fails because another process took the
// port first (its message contains `clash`, e.g. "in use"). Any other
// result is returned at once.
absl::Status StartOnFreePort(absl::FunctionRef<absl::StatusOr<uint16_t>()> pick,
                             absl::string_view clash,
                             absl::FunctionRef<absl::Status(uint16_t)> start);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_LOOPBACK_H_
