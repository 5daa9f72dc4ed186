// LocalDecisions: what the agent decides by itself while it is without the
// service, on the rules it shares with the device-sized C agent
// (client/local_failover.h), kept apart from the stream loop so that it is
// unit-tested on simulated time.
//
// "Without the service" runs from the moment a stream that had delivered a
// decision ends until a stream delivers one again (ServiceLost,
// ServiceBack). Meanwhile:
//  - Local failover: a REGISTER failure the device reports moves the held
//    ACTIVE decision down its candidates as the device's own redundancy
//    would (S6-S10): a local decision, ACTIVE and ASSURANCE_UNCONFIRMED.
//  - Device control: after `device_control_after` without the service (0:
//    never), a DECISION_STATE_DEVICE_CONTROL decision hands control back to
//    the device's own resolution of the profile's server (S3); from then on
//    reports move nothing.
// The service's next decision ends both (and forgets the reported failures).
//
// Pure: times are arguments (`now` monotonic for the timing, `generated_at`
// the wall-clock stamp of a decision); not thread-safe (the agent guards it).
#ifndef SIPRESOLVER_CLIENT_LOCAL_DECISIONS_H_
#define SIPRESOLVER_CLIENT_LOCAL_DECISIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "client/local_failover.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::client {

// Who made a decision the agent hands on: the service, or the agent itself
// (local failover, device control). SIPRESOLVER_SOURCE of the hook contract.
enum class DecisionSource { kService, kAgent };

// "service" or "agent".
const char* DecisionSourceName(DecisionSource source);

// The server the profile configures for redundancy (S3): the outbound proxy
// when set, else the registrar server, else the proxy server; `port` as
// configured, 0 when not (lf_profile_server).
struct ProfileServer {
  std::string server;
  uint32_t port = 0;
};
ProfileServer RedundancyServer(const v1::ItspProfile& profile);

// The decision `held` moved to candidates `primary` and `secondary` (indices
// into held.candidates(), LF_NONE for no secondary) after the device
// reported REGISTER with `address`:`port` ending in `code`.
v1::Decision LocalFailoverDecision(const v1::Decision& held, int primary,
                                   int secondary, const std::string& address,
                                   uint32_t port, uint32_t code,
                                   absl::Time generated_at);

// `held` handed back to the device's own resolution of `server`.
v1::Decision DeviceControlDecision(const v1::Decision& held,
                                   absl::Duration after,
                                   const ProfileServer& server,
                                   absl::Time generated_at);

class LocalDecisions {
 public:
  LocalDecisions(v1::ItspProfile profile, absl::Duration device_control_after);

  // A stream that had delivered a decision ended at `now`; without the
  // service from then on (an outage already running keeps its start).
  void ServiceLost(absl::Time now);
  // A stream delivered a decision: with the service again.
  void ServiceBack();
  bool without_service() const { return lost_at_.has_value(); }
  bool in_device_control() const { return device_control_; }

  // The device reported REGISTER with `address`:`port` ending in `code` (0:
  // no response). While without the service, not in device control, and
  // `held` is ACTIVE: the local decision when the report moved the primary
  // or secondary, else nullopt (a registration only clears that server's
  // failure).
  std::optional<v1::Decision> OnReport(const v1::Decision& held,
                                       const std::string& address,
                                       uint32_t port, uint32_t code,
                                       absl::Time generated_at);

  // When device control is due (on the `now` clock of ServiceLost); nullopt
  // when it never is (off, with the service, already in device control).
  std::optional<absl::Time> DeviceControlDue() const;

  // At `now`: the device-control decision built from `held` once it is due
  // (and the agent in device control from then on, even without a held
  // decision to build it from); else nullopt.
  std::optional<v1::Decision> OnTick(const std::optional<v1::Decision>& held,
                                     absl::Time now, absl::Time generated_at);

 private:
  const v1::ItspProfile profile_;
  const absl::Duration device_control_after_;
  std::optional<absl::Time> lost_at_;
  bool device_control_ = false;
  lf_state failures_ = {};
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_LOCAL_DECISIONS_H_
