// Flow: a connected socket to one SIP endpoint (UDP, TCP or TLS) carrying
// whole SIP messages, for one probe at a time.
//
// A connected UDP socket per probe means the kernel reports ICMP port
// unreachable to us (as ECONNREFUSED) and only that server's datagrams
// arrive, so no demultiplexing is needed. TCP and TLS messages are cut from
// the byte stream by Content-Length. A TLS flow is "connected" once the
// handshake has succeeded, including the check of the server's certificate
// (RFC 5922: against the SIP domain), so a probe never sends a REGISTER to a
// server it could not authenticate. Loop thread only; destroying the Flow
// closes the socket and no handler runs after that.
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

  // How a TLS flow authenticates the server; UDP and TCP ignore it.
  struct TlsSettings {
    // The SIP domain probed: sent as SNI and required in the certificate
    // (DNS name, wildcards per RFC 6125; an IP literal must be an IP SAN).
    std::string server_name;
    // PEM trust anchors used besides the system store ("": system only).
    std::string ca_file;
    // false: any certificate is accepted (encrypted, not authenticated).
    bool verify = true;
  };

  // Starts connecting; on_connected runs on the loop, never inside Open.
  // INVALID_ARGUMENT for an unparsable address or a TLS flow that should
  // verify without a server name; FAILED_PRECONDITION for an unreadable CA
  // file. A failed handshake is an UNAVAILABLE on_error that says why, e.g.
  // "TLS handshake with 127.0.0.1:5061 failed: certificate verify failed
  // (self-signed certificate)".
  static absl::StatusOr<std::unique_ptr<Flow>> Open(asio::io_context& io,
                                                    const Endpoint& endpoint,
                                                    const TlsSettings& tls,
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
