// StunClient: asks STUN servers, over UDP, for this host's mapped address
// (N2: Binding requests to the keep-alive target) on the event loop.
//
// Usage (loop thread):
//   auto client = StunClient::Create(loop.io_context(), loop, random, {});
//   (*client)->Query("192.0.2.10", 3478, LocalBinding{"", 5060, true},
//                    [](absl::StatusOr<MappedAddress> m) { ... });
//
// Each query is one STUN transaction: a random 96-bit transaction id,
// retransmitted per RFC 8489 6.2.1 (stun_schedule.h). Queries to the same
// server from the same local binding share one connected UDP socket (a
// device port can only be bound once) and are told apart by transaction id;
// datagrams that match no query in flight, or do not decode, are ignored and
// counted, and the query keeps waiting. The socket is connected so the
// kernel hands us ICMP port unreachable (ECONNREFUSED) and only that
// server's datagrams; it is closed as soon as no query uses it, so a bound
// device port is held only while a query is in flight.
//
// Results, on the loop, never inside Query():
//  - OK: the XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS), method kStun.
//  - DEADLINE_EXCEEDED: no usable answer within the schedule; the message
//    names the server and the schedule.
//  - UNAVAILABLE: ICMP unreachable / connection refused, or a send error;
//    also a 5xx error response (the server is there but cannot serve).
//  - UNAUTHENTICATED (401), PERMISSION_DENIED (403), FAILED_PRECONDITION
//    (other error codes; a response with unknown comprehension-required
//    attributes, without ERROR-CODE, or without any mapped address: the
//    transaction failed, RFC 8489 6.3.3/6.3.4). The message names the code
//    and reason: "STUN server 127.0.0.1:3478 answered 420 (Unknown
//    Attribute)".
//  - INVALID_ARGUMENT: a server or local address that is not an IP literal,
//    port 0, mixed address families. FAILED_PRECONDITION: the local binding
//    cannot be bound (e.g. the port is in use and reuse_port is off).
//
// Threading and lifetime: loop thread only. Destroying the client abandons
// the queries in flight: their callbacks never run, and neither does any
// callback after a callback has destroyed the client. A callback may call
// Query() again.
#ifndef SIPRESOLVER_LIB_NAT_STUN_CLIENT_H_
#define SIPRESOLVER_LIB_NAT_STUN_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "asio/io_context.hpp"
#include "lib/core/random.h"
#include "lib/core/timer.h"
#include "lib/nat/mapped_address.h"
#include "lib/nat/stun_schedule.h"

namespace sipresolver::nat {

// Where requests are sent from. N2 wants the device's SIP port, so that the
// NAT mapping learned is the one the SIP traffic uses.
struct LocalBinding {
  // Local IP to bind; "" = the wildcard of the server's family.
  std::string address;
  uint16_t port = 0;  // 0 = an ephemeral port.
  // SO_REUSEADDR + SO_REUSEPORT, to share a port another socket holds (the
  // device's SIP socket must have set them too, and be of the same user).
  // Caution: while the query is in flight, the kernel prefers our connected
  // socket for datagrams from the STUN server's address and port; if that is
  // also the SIP server's (keep-alives to the registrar port, N2), SIP
  // datagrams it sends meanwhile reach us, and are dropped, not the device.
  bool reuse_port = false;
};

class StunClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<MappedAddress>)>;

  struct Stats {
    uint64_t queries = 0;
    uint64_t requests_sent = 0;      // Including retransmissions.
    uint64_t responses_matched = 0;  // Decoded and ended a query.
    // Datagrams that matched no query in flight or did not decode.
    uint64_t datagrams_ignored = 0;
    uint64_t succeeded = 0;
    uint64_t failed = 0;
  };

  // INVALID_ARGUMENT if the options are not valid (ValidateStunOptions).
  // The references must outlive the client.
  static absl::StatusOr<std::unique_ptr<StunClient>> Create(
      asio::io_context& io, TimerFactory& timers, Random& random,
      StunOptions options = {});
  ~StunClient();
  StunClient(const StunClient&) = delete;
  StunClient& operator=(const StunClient&) = delete;

  // Starts one transaction with the STUN server at `server_address` (an IPv4
  // or IPv6 literal, without brackets) and `port`; `done` runs once.
  void Query(const std::string& server_address, uint16_t port,
             const std::optional<LocalBinding>& from, Callback done);

  const Stats& stats() const { return stats_; }
  size_t in_flight() const;  // Queries not yet answered.
  size_t open_sockets() const { return channels_.size(); }
  const StunOptions& options() const { return options_; }

 private:
  struct Channel;  // One connected socket and the queries using it.
  friend struct Channel;

  StunClient(asio::io_context& io, TimerFactory& timers, Random& random,
             StunOptions options);
  // Runs `done(status)` on the loop soon, unless the client is gone by then.
  void PostFailure(Callback done, absl::Status status);
  absl::StatusOr<std::shared_ptr<Channel>> ChannelFor(
      const std::string& server_address, uint16_t port,
      const std::optional<LocalBinding>& from);
  void Forget(const std::string& key);  // A channel went idle or failed.

  asio::io_context& io_;
  TimerFactory& timers_;
  Random& random_;
  const StunOptions options_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;
  Stats stats_;
  // Callbacks check it: the client may be destroyed by one of them.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipresolver::nat

#endif  // SIPRESOLVER_LIB_NAT_STUN_CLIENT_H_
