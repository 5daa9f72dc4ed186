// AresTransport: DnsTransport over c-ares 1.18, driven by the EventLoop.
//
// c-ares 1.18 has no event thread and is not thread-safe, so one channel is
// driven from the loop: its socket-state callback tells which fds to watch
// (Asio descriptors wait on them) and ares_timeout() arms one timer for
// retransmissions. Raw answers go through ParseDnsAnswer so SRV TTLs and the
// SOA MINIMUM are kept. Create, Query and destruction on the loop thread (or
// with the loop stopped).
#ifndef SIPRESOLVER_LIB_DNS_ARES_TRANSPORT_H_
#define SIPRESOLVER_LIB_DNS_ARES_TRANSPORT_H_

#include <ares.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/io_context.hpp"
#include "asio/posix/stream_descriptor.hpp"
#include "asio/steady_timer.hpp"
#include "lib/dns/dns_transport.h"

namespace sipresolver::dns {

struct AresOptions {
  // "host:port[,host:port...]" (IPv6 as "[addr]:port"); empty: resolv.conf.
  std::string servers;
  absl::Duration timeout = absl::Seconds(2);  // Per try, first server.
  int tries = 2;
};

class AresTransport : public DnsTransport {
 public:
  // INVALID_ARGUMENT for a bad server list; INTERNAL if c-ares fails.
  static absl::StatusOr<std::unique_ptr<AresTransport>> Create(
      asio::io_context& io, const AresOptions& options);
  // Pending queries are dropped without their callbacks running: call
  // CancelAll() first when the callers are still alive and want to know.
  ~AresTransport() override;  // NOLINT(bugprone-exception-escape): see .cc

  void Query(const std::string& name, RecordType type, Callback done) override;
  // Completes every pending query with CANCELLED.
  void CancelAll();

 private:
  struct Request;
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    uint64_t generation = 0;  // Tells a reused fd number from the old one.
    bool want_read = false;
    bool want_write = false;
    bool read_waiting = false;
    bool write_waiting = false;
  };

  explicit AresTransport(asio::io_context& io);
  static void OnSocketState(void* self, ares_socket_t fd, int readable,
                            int writable);
  static void OnAnswer(void* request, int status, int timeouts,
                       unsigned char* abuf, int alen);
  void UpdateWatch(ares_socket_t fd, bool readable, bool writable);
  void ArmWaits(ares_socket_t fd);
  void OnReady(ares_socket_t fd, uint64_t generation, bool read);
  void ArmTimer();

  asio::io_context& io_;
  ares_channel channel_ = nullptr;
  std::map<ares_socket_t, Watch> watches_;
  uint64_t next_generation_ = 1;
  asio::steady_timer timer_;
  bool destroying_ = false;
};

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_ARES_TRANSPORT_H_
