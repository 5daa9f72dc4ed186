// Prober: sends one SIP probe (REGISTER or OPTIONS) to one server endpoint and
// reports what came back. The seam between health tracking and the network:
// SipProber does it for real; health unit tests use a fake.
#ifndef SIPRESOLVER_LIB_SIP_PROBER_H_
#define SIPRESOLVER_LIB_SIP_PROBER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "lib/core/transport.h"

namespace sipresolver::sip {

struct Endpoint {
  std::string address;  // IP text.
  uint16_t port = 5060;
  Transport transport = Transport::kUdp;

  bool operator==(const Endpoint& o) const {
    return address == o.address && port == o.port && transport == o.transport;
  }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
  bool operator<(const Endpoint& o) const {
    return std::tie(address, port, transport) <
           std::tie(o.address, o.port, o.transport);
  }
  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.address, e.port, e.transport);
  }
};

struct Credentials {
  std::string username;
  std::string password;  // Never logged.
};

struct ProbeRequest {
  Endpoint endpoint;
  std::string domain;        // Request-URI and AOR domain: the configured name.
  bool use_options = false;  // OPTIONS instead of REGISTER.
  // With credentials, a 401/407 is answered once with a digest response.
  std::optional<Credentials> credentials;
  // Expires of a REGISTER: the probe's binding lapses by itself.
  absl::Duration register_expires = absl::Seconds(60);
};

struct ProbeResult {
  enum class Outcome {
    kResponse,      // A final response arrived: see status_code.
    kTimeout,       // No final response before the probe timeout.
    kNetworkError,  // ICMP unreachable, connection refused or reset, ...
  };
  Outcome outcome = Outcome::kTimeout;
  int status_code = 0;         // Final response code, when one came.
  bool authenticated = false;  // A request with credentials was sent.
  absl::Duration latency;      // First send to final response.
  std::string error;           // What went wrong, for people.
  // The top Via's received=/rport= in the response (N1).
  std::optional<std::string> via_received;
  std::optional<uint16_t> via_rport;
};

class Prober {
 public:
  using Callback = absl::AnyInvocable<void(ProbeResult)>;
  virtual ~Prober() = default;
  // `done` runs exactly once, on the loop thread, never inside Probe().
  virtual void Probe(const ProbeRequest& request, Callback done) = 0;
};

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_PROBER_H_
