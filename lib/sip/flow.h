// Flow: a connected socket to one SIP endpoint (UDP or TCP) carrying whole
// SIP messages, for one probe at a time.
//
// A connected UDP socket per probe means the kernel reports ICMP port
// unreachable to us (as ECONNREFUSED) and only that server's datagrams
// arrive, so no demultiplexing is needed. TCP messages are cut from the byte
// stream by Content-Length. Loop thread only; destroying the Flow closes the
// socket and no handler runs after that.
#ifndef SIPRESOLVER_LIB_SIP_FLOW_H_
#define SIPRESOLVER_LIB_SIP_FLOW_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "asio/io_context.hpp"
#include "lib/sip/prober.h"

namespace sipresolver::sip {

class Flow {
 public:
  struct Handlers {
    absl::AnyInvocable<void()> on_connected;
    absl::AnyInvocable<void(std::string message)> on_message;
    absl::AnyInvocable<void(absl::Status error)> on_error;  // Then closed.
  };

  // Starts connecting; on_connected runs on the loop, never inside Open.
  // INVALID_ARGUMENT for an unparsable address, UNIMPLEMENTED for TLS.
  static absl::StatusOr<std::unique_ptr<Flow>> Open(asio::io_context& io,
                                                    const Endpoint& endpoint,
                                                    Handlers handlers);
  virtual ~Flow() = default;

  virtual void Send(std::string message) = 0;
  // Datagrams may be lost: the transaction must retransmit (Timer E).
  virtual bool reliable() const = 0;
  // Our side of the connection, for Via and Contact. Valid once connected.
  virtual std::string local_host() const = 0;
  virtual uint16_t local_port() const = 0;
};

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_FLOW_H_
