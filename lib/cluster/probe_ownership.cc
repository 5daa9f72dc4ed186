#include "lib/cluster/probe_ownership.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/core/host_port.h"
#include "lib/core/stable_hash.h"

namespace sipresolver::cluster {
namespace {

// Unweighted rendezvous: every replica is equal, so the raw hash ranks them;
// no need for the -w/ln(h) of decision/spreading. The NUL separator keeps
// ("ab", "c...") and ("a", "bc...") apart. The key goes first: with the
// replica ids (which differ in their last bytes) at the end, shares came out
// closer to even over test fleets than the other way round.
uint64_t Score(absl::string_view replica, absl::string_view endpoint_key) {
  return StableHash64(
      absl::StrCat(endpoint_key, absl::string_view("\0", 1), replica));
}

// Where in each interval the endpoint's probe falls. Derived from the key
// alone so that all owners agree on it.
absl::Duration Spread(absl::string_view endpoint_key, absl::Duration interval) {
  const int64_t ns = absl::ToInt64Nanoseconds(interval);
  return absl::Nanoseconds(static_cast<int64_t>(StableHash64(endpoint_key) %
                                                static_cast<uint64_t>(ns)));
}

bool IsVisible(const std::vector<std::string>& visible, absl::string_view self,
               absl::string_view replica) {
  return replica == self ||
         std::find(visible.begin(), visible.end(), replica) != visible.end();
}

}  // namespace

std::string EndpointKey(const sip::Endpoint& endpoint) {
  return absl::StrCat(absl::AsciiStrToLower(TransportName(endpoint.transport)),
                      ":", HostPort(endpoint.address, endpoint.port));
}

Membership::Membership(std::vector<std::string> replicas, int owners)
    : replicas_(std::move(replicas)), owners_(std::max(owners, 1)) {
  std::sort(replicas_.begin(), replicas_.end());
  replicas_.erase(std::unique(replicas_.begin(), replicas_.end()),
                  replicas_.end());
}

int Membership::effective_owners() const {
  return std::min<int>(owners_, static_cast<int>(replicas_.size()));
}

bool Membership::Contains(absl::string_view replica) const {
  return std::binary_search(replicas_.begin(), replicas_.end(), replica);
}

std::vector<std::string> Membership::Owners(
    absl::string_view endpoint_key) const {
  std::vector<std::pair<uint64_t, const std::string*>> scored;
  scored.reserve(replicas_.size());
  for (const std::string& r : replicas_) {
    scored.emplace_back(Score(r, endpoint_key), &r);
  }
  const int n = effective_owners();
  // Ties (practically impossible) go to the smaller id, so that every
  // replica still breaks them the same way.
  std::partial_sort(scored.begin(), scored.begin() + n, scored.end(),
                    [](const auto& a, const auto& b) {
                      if (a.first != b.first) return a.first > b.first;
                      return *a.second < *b.second;
                    });
  std::vector<std::string> owners;
  owners.reserve(n);
  for (auto it = scored.begin(); it != scored.begin() + n; ++it) {
    owners.push_back(*it->second);
  }
  return owners;
}

std::optional<int> Membership::Rank(absl::string_view replica,
                                    absl::string_view endpoint_key) const {
  const std::vector<std::string> owners = Owners(endpoint_key);
  auto it = std::find(owners.begin(), owners.end(), replica);
  if (it == owners.end()) return std::nullopt;
  return static_cast<int>(it - owners.begin());
}

absl::Time ProbeSchedule::NextAt(absl::Time not_before) const {
  const absl::Time first = absl::UnixEpoch() + offset;
  return first + absl::Ceil(not_before - first, period);
}

std::optional<ProbeSchedule> ScheduleFor(const Membership& membership,
                                         absl::string_view self,
                                         absl::string_view endpoint_key,
                                         absl::Duration interval) {
  if (interval <= absl::ZeroDuration()) return std::nullopt;
  const std::optional<int> rank = membership.Rank(self, endpoint_key);
  if (!rank) return std::nullopt;
  // Owner k probes in intervals k, k + n, k + 2n, ...: the n owners fill
  // every interval exactly once between them.
  return ProbeSchedule{interval * membership.effective_owners(),
                       interval * *rank + Spread(endpoint_key, interval)};
}

OwnershipChange ChangedOwnership(
    const Membership& before, const Membership& after, absl::string_view self,
    const std::vector<std::string>& endpoint_keys) {
  // The interval only scales both schedules; any positive value compares.
  const absl::Duration unit = absl::Seconds(1);
  OwnershipChange change;
  for (const std::string& key : endpoint_keys) {
    const auto was = ScheduleFor(before, self, key, unit);
    const auto now = ScheduleFor(after, self, key, unit);
    if (now && !was) {
      change.gained.push_back(key);
    } else if (was && !now) {
      change.lost.push_back(key);
    } else if (was && now && *was != *now) {
      change.rescheduled.push_back(key);
    }
  }
  return change;
}

// The fallback rule, for an endpoint e whose last known owners are
// O = o_0 .. o_{n-1} (n = effective owners):
//   - a replica outside O probes nothing;
//   - an owner that sees every other owner keeps its turn (ScheduleFor);
//   - an owner that misses some owner keeps its turn, and if no better-ranked
//     owner is visible to it either, it probes every interval, standing in
//     for the owners it cannot see.
//
// Never more than `owners` probes per interval, whatever each replica sees:
// only the n <= owners replicas of O ever probe e, and each of them at most
// once per interval (its period is at least the interval). This holds even
// when every replica sees only itself (etcd down everywhere): then every
// owner probes every interval, n probes instead of one — the price of not
// being able to coordinate, and still bounded.
//
// Still probed, every interval, while one owner of e is alive, provided no
// replica sees a dead one as visible: the interval that was a dead owner's
// turn is taken by the best-ranked live owner, which by definition sees no
// better-ranked owner (those are dead) and misses the dead one.
//
// Not probed when all of O are gone: a replica cut off from etcd cannot tell
// its peers' death from its own isolation, and if it took over endpoints
// whose owners it cannot see, every isolated replica would probe every
// endpoint — the multiplication this design exists to prevent. Such
// endpoints wait for the membership to come back; with the default of two
// owners that takes two deaths during one etcd fault.
std::optional<ProbeSchedule> FallbackSchedule(
    const Membership& last_known, const std::vector<std::string>& visible,
    absl::string_view self, absl::string_view endpoint_key,
    absl::Duration interval) {
  std::optional<ProbeSchedule> own =
      ScheduleFor(last_known, self, endpoint_key, interval);
  if (!own) return std::nullopt;
  const std::vector<std::string> owners = last_known.Owners(endpoint_key);
  const auto seen = [&](const std::string& owner) {
    return IsVisible(visible, self, owner);
  };
  const auto self_it = std::find(owners.begin(), owners.end(), self);
  const bool better_seen = std::any_of(owners.begin(), self_it, seen);
  const bool any_missing = !std::all_of(owners.begin(), owners.end(), seen);
  if (better_seen || !any_missing) return own;
  return ProbeSchedule{interval, Spread(endpoint_key, interval)};
}

}  // namespace sipresolver::cluster
