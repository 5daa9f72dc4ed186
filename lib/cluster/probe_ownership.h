// Probe ownership: which replicas of sipresolverd probe a SIP endpoint, and
// when, so that the fleet sends one probe per probe interval to an endpoint
// however many replicas there are.
//
// Each endpoint has `owners` replicas (fewer if the fleet is smaller): the top
// of a rendezvous (highest random weight) ranking of the live replicas by
// StableHash64(replica, endpoint). Every replica that holds the same
// membership computes the same owner list without talking to the others, and
// a replica joining or leaving moves only its own share (ENGINEERING.md, "Many
// replicas"). The owners take turns: with n owners each probes every
// n * interval, owner k shifted by k * interval, so that together they send
// exactly one probe per interval. Two owners rather than one keep the
// evidence fresh from a second vantage point and let the survivor carry on
// alone when one dies during an etcd fault (FallbackSchedule).
//
// Schedules are anchored at the Unix epoch, so replicas agree on them as far
// as their wall clocks agree; a membership change can cause one extra or one
// missing probe at the moment of the switch.
//
// Pure values and functions: no clock, no I/O; thread-compatible.
#ifndef SIPRESOLVER_LIB_CLUSTER_PROBE_OWNERSHIP_H_
#define SIPRESOLVER_LIB_CLUSTER_PROBE_OWNERSHIP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/sip/prober.h"

namespace sipresolver::cluster {

// "udp:192.0.2.1:5060", "tls:[2001:db8::1]:5061": what ownership is hashed
// on, so it must never change for an endpoint.
std::string EndpointKey(const sip::Endpoint& endpoint);

// A snapshot of the live replicas and the configured owner count. Cheap to
// build again whenever etcd reports a change.
class Membership {
 public:
  Membership() = default;
  // `replicas` in any order, duplicates ignored; `owners` below 1 counts as 1.
  Membership(std::vector<std::string> replicas, int owners);

  // Sorted, without duplicates.
  const std::vector<std::string>& replicas() const { return replicas_; }
  int owners() const { return owners_; }
  // Owners per endpoint: min(owners, number of replicas).
  int effective_owners() const;
  bool Contains(absl::string_view replica) const;

  // The owners of `endpoint_key`, best ranked first; empty without replicas.
  std::vector<std::string> Owners(absl::string_view endpoint_key) const;
  // `replica`'s position in Owners(endpoint_key), or nullopt if not an owner.
  std::optional<int> Rank(absl::string_view replica,
                          absl::string_view endpoint_key) const;

  bool operator==(const Membership& o) const {
    return replicas_ == o.replicas_ && owners_ == o.owners_;
  }
  bool operator!=(const Membership& o) const { return !(*this == o); }

 private:
  std::vector<std::string> replicas_;
  int owners_ = 1;
};

// Probes at UnixEpoch() + offset + j * period for every integer j.
struct ProbeSchedule {
  absl::Duration period;
  absl::Duration offset;  // In [0, period).

  // The first probe time at or after `not_before`.
  absl::Time NextAt(absl::Time not_before) const;

  bool operator==(const ProbeSchedule& o) const {
    return period == o.period && offset == o.offset;
  }
  bool operator!=(const ProbeSchedule& o) const { return !(*this == o); }
};

// When `self` probes `endpoint_key` with everyone in `membership` running:
// period = interval * effective_owners, offset = rank * interval + a
// per-endpoint spread in [0, interval) (the same for all owners, so that a
// replica's endpoints are not all probed at the same instant). nullopt if
// `self` is not an owner or `interval` is not positive.
std::optional<ProbeSchedule> ScheduleFor(const Membership& membership,
                                         absl::string_view self,
                                         absl::string_view endpoint_key,
                                         absl::Duration interval);

// How `self`'s share changed between two memberships, over `endpoint_keys`
// (each list in the order of `endpoint_keys`).
struct OwnershipChange {
  std::vector<std::string> gained;       // Owned now, not before.
  std::vector<std::string> lost;         // Owned before, not now.
  std::vector<std::string> rescheduled;  // Owned in both, new rank or period.
};
OwnershipChange ChangedOwnership(const Membership& before,
                                 const Membership& after,
                                 absl::string_view self,
                                 const std::vector<std::string>& endpoint_keys);

// What `self` probes while it cannot trust the membership (etcd unreachable):
// `last_known` is the last membership it saw, `visible` the replicas it still
// knows to be alive (itself is always taken as visible). See the .cc for the
// rule and why it never sends more than `owners` probes per interval.
std::optional<ProbeSchedule> FallbackSchedule(
    const Membership& last_known, const std::vector<std::string>& visible,
    absl::string_view self, absl::string_view endpoint_key,
    absl::Duration interval);

}  // namespace sipresolver::cluster

#endif  // SIPRESOLVER_LIB_CLUSTER_PROBE_OWNERSHIP_H_
