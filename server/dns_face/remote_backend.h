// RemoteBackend: PowerDNS Authoritative 4.7's remote backend protocol, one
// request line in, one reply line out: `{"method":M,"parameters":{...}}`
// answered with `{"result":...}`. Served: initialize, lookup,
// getAllDomains and getDomainInfo (for its zone cache); every other method
// is answered `false` (not supported: the zones are read-only, unsigned and
// never transferred). A lookup whose name has no servers known yet is
// answered without a result, which PowerDNS turns into SERVFAIL.
// Stateless and thread-safe; a hostile line gets `false`, never a crash.
#ifndef SIPRESOLVER_SERVER_DNS_FACE_REMOTE_BACKEND_H_
#define SIPRESOLVER_SERVER_DNS_FACE_REMOTE_BACKEND_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "server/dns_face/face_records.h"

namespace sipresolver::server::dns_face {

// What a lookup came to, for metrics.
enum class LookupOutcome { kAnswered, kNoData, kNoSuchName, kUnavailable };

class RemoteBackend {
 public:
  using OnLookup = std::function<void(LookupOutcome)>;
  explicit RemoteBackend(const FaceRecords& records, OnLookup on_lookup = {})
      : records_(records), on_lookup_(std::move(on_lookup)) {}

  // `line` without its newline; the reply without one.
  std::string Handle(absl::string_view line) const;

 private:
  const FaceRecords& records_;
  const OnLookup on_lookup_;
};

}  // namespace sipresolver::server::dns_face

#endif  // SIPRESOLVER_SERVER_DNS_FACE_REMOTE_BACKEND_H_
