// NatKeeper: keeps the device's mapped contact address current, on the
// agent's side (N1-N3). STUN Binding requests go to the keep-alive target of
// the current decision (N2: the configured keep-alive server, else the
// server a REGISTER goes to; it follows failovers), from the device's SIP
// port when given, every `interval`; and a REGISTER response the device
// received yields the Via received=/rport= mapping (N1). Whichever method
// found it last wins. Runs on a thread of its own, so a silent STUN server
// never delays decisions. Thread-safe.
#ifndef SIPRESOLVER_CLIENT_NAT_KEEPER_H_
#define SIPRESOLVER_CLIENT_NAT_KEEPER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/core/event_loop.h"
#include "lib/core/random.h"
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
  std::function<void(const nat::MappedAddress& mapped, bool changed)> on_mapping;
  std::function<void(const std::string& event)> on_event;  // Failures, for logs.
};

class NatKeeper {
 public:
  static absl::StatusOr<std::unique_ptr<NatKeeper>> Create(NatOptions options);
  ~NatKeeper();

  // Keep-alives (STUN) go to host:port from now on; an empty host stops
  // them. A host name is resolved (A) first.
  void SetTarget(const std::string& host, uint16_t port);
  // N1: the raw text of a REGISTER response the device received.
  absl::Status ObserveRegisterResponse(absl::string_view response);
  std::optional<nat::MappedAddress> current() const;

 private:
  explicit NatKeeper(NatOptions options);
  void Query(uint64_t generation);  // Loop thread.
  void Learned(const nat::MappedAddress& mapped);

  const NatOptions options_;
  EventLoop loop_;
  RealRandom random_;
  std::unique_ptr<nat::StunClient> stun_;
  // Loop thread only:
  std::string target_address_;
  uint16_t target_port_ = 0;
  uint64_t generation_ = 0;  // Bumped per target: stale results are dropped.
  std::unique_ptr<Timer> next_;
  mutable absl::Mutex mu_;
  std::optional<nat::MappedAddress> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_NAT_KEEPER_H_
