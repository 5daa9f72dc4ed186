// DeviceResolver: turns a configured server into the candidate list a device
// would build, following the device rules exactly:
//   R1  A record first; else SRV of the bare name; else SRV of "_sip._udp." +
//       name; else the request fails. (Not RFC 3263 order.)
//   R2  SRV answers set the port; otherwise the configured port, or 5060
//       (5061 for TLS).
//   R3  Address records share one priority; SRV targets keep their own
//       priority and weight (RFC 2782 weighted order within a priority).
//   R4  An IP literal is the only candidate; no lookup.
//   S4  Without redundancy, only the first address is returned.
//   S5  Redundancy needs a domain name.
// Every lookup, from upstream or the cache, is recorded so support can see
// why a device got what it got. Loop thread only.
#ifndef SIPRESOLVER_LIB_DNS_DEVICE_RESOLVER_H_
#define SIPRESOLVER_LIB_DNS_DEVICE_RESOLVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/core/random.h"
#include "lib/core/transport.h"
#include "lib/dns/caching_resolver.h"

namespace sipresolver::dns {

using ::sipresolver::Transport;
enum class IpVersion { kV4, kV6, kDual };
enum class CandidateSource { kA, kAaaa, kSrv, kSrvSipUdp, kIpLiteral };
enum class LookupOutcome {
  kAnswer,
  kNxDomain,
  kNoData,
  kNoService,
  kUnavailable
};

struct ServerSpec {
  std::string server;  // Domain name or IP literal.
  uint32_t port = 0;   // 0: not configured.
  Transport transport = Transport::kUdp;
  IpVersion ip_version = IpVersion::kV4;
  bool redundancy = false;  // X_ProxyServerRedundancy.
};

struct Candidate {
  std::string target;
  std::string address;
  uint16_t port = 0;
  uint16_t priority = 0;
  uint16_t weight = 0;
  CandidateSource source = CandidateSource::kA;
  absl::Duration ttl;  // Smallest remaining TTL of the records used.
};

struct LookupRecord {
  std::string name;
  RecordType type = RecordType::kA;
  LookupOutcome outcome = LookupOutcome::kNxDomain;
  absl::Duration ttl;
  bool from_cache = false;
  bool stale = false;
  int record_count = 0;
  std::string detail;
};

struct Resolution {
  std::vector<Candidate> candidates;  // In the order a device tries them.
  std::vector<LookupRecord> lookups;  // In the order they completed.
};

// Caps on the work one request can cause.
inline constexpr int kMaxSrvTargets = 32;
inline constexpr int kMaxCnameLookups = 8;

// 5060, or 5061 for TLS (S12).
uint16_t DefaultPort(Transport transport);

// INVALID_ARGUMENT naming the field and the rule: empty/over-long/invalid
// name, port above 65535, redundancy with an IP literal (S5).
absl::Status ValidateServerSpec(const ServerSpec& spec);

class DeviceResolver {
 public:
  // On success, candidates is non-empty. Errors: INVALID_ARGUMENT (see
  // ValidateServerSpec), NOT_FOUND (no records; lookups say which were
  // tried), UNAVAILABLE (DNS failed and nothing usable was cached). The
  // lookups are filled in either way.
  using Callback = absl::AnyInvocable<void(absl::Status, Resolution)>;

  // `dns` and `random` must outlive this and every pending request.
  DeviceResolver(CachingResolver& dns, Random& random)
      : dns_(dns), random_(random) {}

  // `done` may run before Resolve returns.
  void Resolve(const ServerSpec& spec, Callback done);

 private:
  class Job;
  CachingResolver& dns_;
  Random& random_;
};

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_DEVICE_RESOLVER_H_
