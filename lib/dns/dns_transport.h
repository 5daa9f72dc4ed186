// DnsTransport: one DNS question sent upstream, one answer back.
//
// The seam between resolution logic and the network: AresTransport talks to
// real DNS servers; unit tests use a fake that answers on demand.
#ifndef SIPRESOLVER_LIB_DNS_DNS_TRANSPORT_H_
#define SIPRESOLVER_LIB_DNS_DNS_TRANSPORT_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "lib/dns/dns_answer.h"

namespace sipresolver::dns {

class DnsTransport {
 public:
  // NXDOMAIN and NODATA arrive as answers. Errors: DEADLINE_EXCEEDED (no
  // answer in time), UNAVAILABLE (refused, SERVFAIL, unreachable), DATA_LOSS
  // (malformed answer), CANCELLED (transport shutting down).
  using Callback = absl::AnyInvocable<void(absl::StatusOr<DnsAnswer>)>;

  virtual ~DnsTransport() = default;
  // `done` runs exactly once, on the loop thread, possibly before Query
  // returns.
  virtual void Query(const std::string& name, RecordType type,
                     Callback done) = 0;
};

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_DNS_TRANSPORT_H_
