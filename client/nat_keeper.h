// NatKeeper: keeps the device's mapped contact address current, on the
// agent's side (N1-N3). STUN Binding requests go to the keep-alive target of
// the current decision (N2: the configured keep-alive server, else the
// server a REGISTER goes to; it follows failovers), from the device's SIP
// port when given, every `interval`; and a REGISTER response the device
// received yields the Via received=/rport= mapping (N1). Whichever method
// found it last wins. Runs on a thread of its own, so a silent STUN server
// never delays decisions. A keep-alive server given by name is resolved (A)
// on that thread with c-ares, never blocking it, and again when its TTL is
// up, so keep-alives follow a DNS change; a name that does not resolve is
// reported and gets no keep-alives (the previous target's address is not
// reused for it). Thread-safe.
#ifndef SIPRESOLVER_CLIENT_NAT_KEEPER_H_
#define SIPRESOLVER_CLIENT_NAT_KEEPER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/core/clock.h"
#include "lib/core/event_loop.h"
#include "lib/core/random.h"
#include "lib/dns/ares_transport.h"
#include "lib/dns/caching_resolver.h"
#include "lib/nat/mapped_address.h"
#include "lib/nat/stun_client.h"

namespace sipresolver::client {

struct NatOptions {
  // The device's SIP port to send STUN from (shared with SO_REUSEPORT), so
  // the mapping is the one of its SIP flow; 0: an ephemeral port.
  uint16_t local_port = 0;
  absl::Duration interval = absl::Seconds(30);
  nat::StunOptions stun;
  // A mapping was learned; `changed` when it differs from the last one.
  std::function<void(const nat::MappedAddress& mapped, bool changed)>
      on_mapping;
  std::function<void(const std::string& event)>
      on_event;  // Failures, for logs.
  // DNS servers for a keep-alive server given by name ("host:port,...");
  // empty: /etc/resolv.conf.
  std::string dns_servers;
};

class NatKeeper {
 public:
  static absl::StatusOr<std::unique_ptr<NatKeeper>> Create(NatOptions options);
  ~NatKeeper();

  // Keep-alives (STUN) go to host:port from now on; an empty host stops
  // them. A host name is resolved (A) first, and again at its TTL.
  void SetTarget(const std::string& host, uint16_t port);
  // N1: the raw text of a REGISTER response the device received.
  absl::Status ObserveRegisterResponse(absl::string_view response);
  std::optional<nat::MappedAddress> current() const;

 private:
  explicit NatKeeper(NatOptions options);
  // Loop thread:
  void Resolve(uint64_t host_generation);
  void Aim(const std::string& address);  // Keep-alives go there from now on.
  void Query(uint64_t generation);
  void Learned(const nat::MappedAddress& mapped);

  const NatOptions options_;
  EventLoop loop_;
  RealRandom random_;
  RealClock clock_;
  std::unique_ptr<nat::StunClient> stun_;
  std::unique_ptr<dns::AresTransport> transport_;
  std::unique_ptr<dns::CachingResolver> dns_;
  // Loop thread only:
  std::string target_host_;  // A name to resolve; empty for an IP literal.
  uint64_t host_generation_ =
      0;  // Bumped per SetTarget: stale answers dropped.
  std::unique_ptr<Timer> renew_;
  std::string target_address_;
  uint16_t target_port_ = 0;
  uint64_t generation_ = 0;  // Bumped per target: stale results are dropped.
  std::unique_ptr<Timer> next_;
  mutable absl::Mutex mu_;
  std::optional<nat::MappedAddress> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_NAT_KEEPER_H_
