// HostileUdpServer: the misbehaving peer of the fault-injection tests
// (hostile_dns_test.cc, hostile_registrar_test.cc). A UDP socket on
// 127.0.0.1 (a free port) served by a thread of its own that answers each
// datagram it receives with whatever `reply` makes of it: any number of
// datagrams, garbage included, sent back to the sender. The destructor stops
// the thread (within 100 ms) and closes the socket.
#ifndef SIPRESOLVER_TESTS_INTEGRATION_HOSTILE_UDP_SERVER_H_
#define SIPRESOLVER_TESTS_INTEGRATION_HOSTILE_UDP_SERVER_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/loopback.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {

class HostileUdpServer {
 public:
  // The datagrams to send back for one received datagram.
  using Reply =
      std::function<std::vector<std::string>(const std::string& received)>;

  explicit HostileUdpServer(Reply reply)
      : reply_(std::move(reply)),
        fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
        port_(fd_.valid() ? BindLoopback(fd_.get(), 0) : 0) {
    // A test against a server that is not there would fail obscurely.
    if (port_ == 0) {
      std::perror("HostileUdpServer: no UDP socket on 127.0.0.1");
      std::abort();
    }
    timeval tv{0, 100000};  // recvfrom wakes up to see stop_.
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    thread_ = std::thread([this] { Serve(); });
  }
  ~HostileUdpServer() {
    stop_ = true;
    thread_.join();
  }
  HostileUdpServer(const HostileUdpServer&) = delete;
  HostileUdpServer& operator=(const HostileUdpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Serve() {
    std::vector<char> buf(65536);  // The largest UDP datagram.
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n = recvfrom(fd_.get(), buf.data(), buf.size(), 0,
                           reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      for (const std::string& d : reply_(std::string(buf.data(), n))) {
        sendto(fd_.get(), d.data(), d.size(), 0,
               reinterpret_cast<sockaddr*>(&from), len);
      }
    }
  }

  Reply reply_;
  ScopedFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_INTEGRATION_HOSTILE_UDP_SERVER_H_
