// Probe ownership: rendezvous owners per endpoint, phased schedules that add up
// to one probe per interval, and the etcd-fault fallback's bound. Time is
// simulated: schedules are evaluated at chosen instants, nothing sleeps.
#include "lib/cluster/probe_ownership.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sipresolver::cluster {
namespace {

constexpr absl::Duration kInterval = absl::Seconds(30);
// An arbitrary instant, not aligned to anything.
const absl::Time kStart =
    absl::FromUnixSeconds(1'700'000'000) + absl::Milliseconds(123);

std::string Replica(int i) { return absl::StrCat("sipresolverd-", i); }

std::vector<std::string> Replicas(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(Replica(i));
  return out;
}

std::vector<std::string> Keys(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    sip::Endpoint e;
    e.address = absl::StrCat("10.", i / 250, ".", i % 250, ".1");
    e.port = static_cast<uint16_t>(5060 + i % 3);
    e.transport = i % 2 ? Transport::kTcp : Transport::kUdp;
    out.push_back(EndpointKey(e));
  }
  return out;
}

// Probes `schedule` sends in [from, to).
int ProbesIn(const ProbeSchedule& schedule, absl::Time from, absl::Time to) {
  int n = 0;
  for (absl::Time t = schedule.NextAt(from); t < to; t += schedule.period) ++n;
  return n;
}

TEST(EndpointKeyTest, TransportThenBracketedHostPort) {
  EXPECT_EQ(EndpointKey({"192.0.2.1", 5060, Transport::kUdp}),
            "udp:192.0.2.1:5060");
  EXPECT_EQ(EndpointKey({"2001:db8::1", 5061, Transport::kTls}),
            "tls:[2001:db8::1]:5061");
}

TEST(ProbeOwnershipTest, EveryReplicaComputesTheSameOwners) {
  // Each replica lists the membership in its own order, with repeats, as
  // etcd watch events might leave it.
  const std::vector<std::string> keys = Keys(200);
  const Membership reference(Replicas(5), 2);
  for (int self = 0; self < 5; ++self) {
    std::vector<std::string> seen = Replicas(5);
    std::rotate(seen.begin(), seen.begin() + self, seen.end());
    if (self % 2) std::reverse(seen.begin(), seen.end());
    seen.push_back(Replica(self));
    const Membership mine(seen, 2);
    ASSERT_EQ(mine, reference);
    for (const std::string& key : keys) {
      const std::vector<std::string> owners = mine.Owners(key);
      ASSERT_EQ(owners, reference.Owners(key)) << key;
      for (const std::string& r : Replicas(5)) {
        const auto it = std::find(owners.begin(), owners.end(), r);
        const std::optional<int> rank = mine.Rank(r, key);
        if (it == owners.end()) {
          EXPECT_FALSE(rank.has_value());
        } else {
          EXPECT_EQ(rank, it - owners.begin());
        }
      }
    }
  }
}

TEST(ProbeOwnershipTest, OwnersAndScheduleArePinned) {
  // Replicas of different builds must agree: changing the hash or the key
  // format reshuffles every fleet's probing.
  const Membership m(Replicas(5), 2);
  EXPECT_EQ(m.Owners("udp:192.0.2.1:5060"),
            (std::vector<std::string>{"sipresolverd-4", "sipresolverd-2"}));
  EXPECT_EQ(
      ScheduleFor(m, "sipresolverd-2", "udp:192.0.2.1:5060", kInterval),
      (ProbeSchedule{2 * kInterval, kInterval + absl::Nanoseconds(335043378)}));
}

TEST(ProbeOwnershipTest, EachEndpointHasMinOwnersNAndTheLoadIsSpread) {
  const std::vector<std::string> keys = Keys(1000);
  for (int owners = 1; owners <= 3; ++owners) {
    for (int n = 1; n <= 8; ++n) {
      const Membership m(Replicas(n), owners);
      const int expected = std::min(owners, n);
      ASSERT_EQ(m.effective_owners(), expected);
      std::map<std::string, int> share;
      for (const std::string& key : keys) {
        const std::vector<std::string> list = m.Owners(key);
        ASSERT_EQ(static_cast<int>(list.size()), expected);
        ASSERT_EQ(std::set<std::string>(list.begin(), list.end()).size(),
                  list.size());
        for (const std::string& r : list) {
          ASSERT_TRUE(m.Contains(r));
          ++share[r];
        }
      }
      const double mean = 1000.0 * expected / n;
      for (const std::string& r : Replicas(n)) {
        EXPECT_NEAR(share[r], mean, 0.25 * mean)
            << r << " of " << n << ", owners " << owners;
      }
    }
  }
}

TEST(ProbeOwnershipTest, AddingAReplicaMovesEndpointsOnlyToIt) {
  const std::vector<std::string> keys = Keys(1000);
  for (int n = 1; n <= 7; ++n) {
    const Membership before(Replicas(n), 2);
    const Membership after(Replicas(n + 1), 2);
    const std::string joined = Replica(n);
    int moved = 0;
    for (const std::string& key : keys) {
      const std::vector<std::string> was = before.Owners(key);
      const std::vector<std::string> is = after.Owners(key);
      for (const std::string& r : is) {
        if (std::find(was.begin(), was.end(), r) == was.end()) {
          EXPECT_EQ(r, joined) << key;
          ++moved;
        }
      }
    }
    // Only the newcomer's share moves (it is spread; see the load test).
    EXPECT_NEAR(moved, 1000.0 * std::min(2, n + 1) / (n + 1),
                0.25 * 1000.0 * std::min(2, n + 1) / (n + 1));
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(
          ChangedOwnership(before, after, Replica(i), keys).gained.empty());
    }
    const OwnershipChange newcomer =
        ChangedOwnership(before, after, joined, keys);
    EXPECT_EQ(static_cast<int>(newcomer.gained.size()), moved);
    EXPECT_TRUE(newcomer.lost.empty());
  }
}

TEST(ProbeOwnershipTest, RemovingAReplicaMovesOnlyItsEndpoints) {
  const std::vector<std::string> keys = Keys(1000);
  for (int n = 2; n <= 8; ++n) {
    for (int gone = 0; gone < n; ++gone) {
      std::vector<std::string> rest = Replicas(n);
      rest.erase(rest.begin() + gone);
      const Membership before(Replicas(n), 2);
      const Membership after(rest, 2);
      for (const std::string& key : keys) {
        const std::vector<std::string> was = before.Owners(key);
        const std::vector<std::string> is = after.Owners(key);
        if (std::find(was.begin(), was.end(), Replica(gone)) == was.end()) {
          EXPECT_EQ(is, was) << key;
        } else {
          for (const std::string& r : was) {
            if (r != Replica(gone)) {
              EXPECT_NE(std::find(is.begin(), is.end(), r), is.end()) << key;
            }
          }
        }
      }
      for (const std::string& r : rest) {
        EXPECT_TRUE(ChangedOwnership(before, after, r, keys).lost.empty());
      }
    }
  }
}

TEST(ProbeOwnershipTest, ChangedOwnershipReportsANewRank) {
  const std::vector<std::string> keys = Keys(200);
  const Membership before(Replicas(4), 2);
  EXPECT_TRUE(
      ChangedOwnership(before, before, Replica(0), keys).rescheduled.empty());
  // Endpoints where replica 0 is second and replica 1 first: without
  // replica 1, replica 0 moves up to first, so its turn changes.
  std::vector<std::string> expected;
  for (const std::string& key : keys) {
    if (before.Owners(key) == std::vector<std::string>{Replica(1), Replica(0)})
      expected.push_back(key);
  }
  ASSERT_FALSE(expected.empty());
  const Membership after({Replica(0), Replica(2), Replica(3)}, 2);
  EXPECT_EQ(ChangedOwnership(before, after, Replica(0), keys).rescheduled,
            expected);
}

TEST(ProbeScheduleTest, OwnerKProbesEveryNIntervalsShiftedByKIntervals) {
  const Membership m(Replicas(5), 3);
  for (const std::string& key : Keys(50)) {
    const std::vector<std::string> owners = m.Owners(key);
    for (const std::string& r : Replicas(5)) {
      const auto s = ScheduleFor(m, r, key, kInterval);
      const auto it = std::find(owners.begin(), owners.end(), r);
      if (it == owners.end()) {
        EXPECT_FALSE(s.has_value());
        continue;
      }
      ASSERT_TRUE(s.has_value());
      const int rank = static_cast<int>(it - owners.begin());
      EXPECT_EQ(s->period, 3 * kInterval);
      EXPECT_GE(s->offset, rank * kInterval);
      EXPECT_LT(s->offset, (rank + 1) * kInterval);
      const absl::Time t = s->NextAt(kStart);
      EXPECT_GE(t, kStart);
      EXPECT_LT(t, kStart + s->period);
      EXPECT_EQ(s->NextAt(t), t);
      EXPECT_EQ(s->NextAt(t + absl::Nanoseconds(1)), t + s->period);
    }
  }
  EXPECT_FALSE(
      ScheduleFor(m, Replica(0), "udp:192.0.2.1:5060", absl::ZeroDuration())
          .has_value());
}

TEST(ProbeScheduleTest, OwnersTogetherProbeOncePerInterval) {
  const std::vector<std::string> keys = Keys(300);
  constexpr int kIntervals = 60;
  for (int n : {1, 3, 5, 8}) {
    for (int owners = 1; owners <= 3; ++owners) {
      const Membership m(Replicas(n), owners);
      // probes[key][interval], over every replica's schedule.
      std::map<std::string, std::vector<int>> probes;
      for (const std::string& key : keys) {
        probes[key].assign(kIntervals, 0);
        for (const std::string& r : m.replicas()) {
          const auto s = ScheduleFor(m, r, key, kInterval);
          if (!s) continue;
          for (absl::Time t = s->NextAt(kStart);
               t < kStart + kIntervals * kInterval; t += s->period) {
            ++probes[key][(t - kStart) / kInterval];
          }
        }
      }
      for (const auto& [key, counts] : probes) {
        for (int i = 0; i < kIntervals; ++i) {
          ASSERT_EQ(counts[i], 1) << key << " interval " << i << ", " << n
                                  << " replicas, " << owners << " owners";
        }
      }
    }
  }
}

TEST(FallbackTest, EveryoneVisibleKeepsTheNormalSchedule) {
  const Membership m(Replicas(5), 2);
  for (const std::string& key : Keys(100)) {
    for (const std::string& r : m.replicas()) {
      EXPECT_EQ(FallbackSchedule(m, m.replicas(), r, key, kInterval),
                ScheduleFor(m, r, key, kInterval));
    }
  }
}

TEST(FallbackTest, AloneAReplicaProbesItsShareEveryIntervalAndNothingElse) {
  // etcd down everywhere: each replica sees only itself.
  const Membership m(Replicas(5), 2);
  for (const std::string& key : Keys(100)) {
    int probes = 0;
    for (const std::string& r : m.replicas()) {
      const auto s = FallbackSchedule(m, {}, r, key, kInterval);
      EXPECT_EQ(s.has_value(), m.Rank(r, key).has_value());
      if (!s) continue;
      EXPECT_EQ(s->period, kInterval);
      probes += ProbesIn(*s, kStart, kStart + kInterval);
    }
    EXPECT_EQ(probes, 2) << key;  // `owners`, never more.
  }
}

// Brute force over every replica being dead or alive with any view of the
// others. Each replica decides from its own view alone, so the fleet's probes
// in an interval are the sum of independent choices.
TEST(FallbackTest, NeverMoreThanOwnersProbesPerIntervalWhateverEachSees) {
  const std::vector<std::string> keys = Keys(30);
  constexpr int kIntervals = 12;  // A multiple of every period (1..3).
  for (int n = 1; n <= 4; ++n) {
    for (int owners = 1; owners <= 3; ++owners) {
      const Membership last(Replicas(n), owners);
      // State of replica i: 0 = dead, else 1 + a bitmask of the replicas it
      // sees, itself included.
      const int views = 1 << n;
      const int states = 1 + views;
      // Each view once: with its own bit set.
      const auto Valid = [](int i, int state) {
        return state == 0 || ((state - 1) >> i) & 1;
      };
      for (const std::string& key : keys) {
        // probes_in[i][state][interval] for this key.
        std::vector<std::vector<std::vector<int>>> probes_in(
            n, std::vector<std::vector<int>>(states,
                                             std::vector<int>(kIntervals)));
        for (int i = 0; i < n; ++i) {
          for (int view = 0; view < views; ++view) {
            std::vector<std::string> visible;
            for (int j = 0; j < n; ++j) {
              if (view & (1 << j)) visible.push_back(Replica(j));
            }
            const auto s =
                FallbackSchedule(last, visible, Replica(i), key, kInterval);
            for (int k = 0; s && k < kIntervals; ++k) {
              probes_in[i][1 + view][k] = ProbesIn(
                  *s, kStart + k * kInterval, kStart + (k + 1) * kInterval);
            }
          }
        }
        const std::vector<std::string> key_owners = last.Owners(key);
        std::vector<int> state(n, 0);
        while (true) {
          int dead_mask = 0;
          for (int i = 0; i < n; ++i) {
            if (state[i] == 0) dead_mask |= 1 << i;
          }
          // Truthful: no live replica sees a dead one.
          bool truthful = true;
          for (int i = 0; i < n; ++i) {
            if (state[i] != 0 && ((state[i] - 1) & dead_mask)) {
              truthful = false;
            }
          }
          bool owner_alive = false;
          for (const std::string& o : key_owners) {
            const int i = static_cast<int>(
                std::find(last.replicas().begin(), last.replicas().end(), o) -
                last.replicas().begin());
            if (state[i] != 0) owner_alive = true;
          }
          for (int k = 0; k < kIntervals; ++k) {
            int total = 0;
            for (int i = 0; i < n; ++i) total += probes_in[i][state[i]][k];
            ASSERT_LE(total, owners) << key << " n=" << n;
            // Probed while any owner lives and views are truthful; in
            // particular whenever all run, however alone each feels.
            if (truthful && owner_alive) {
              ASSERT_GE(total, 1) << key << " n=" << n << " interval " << k;
            }
            if (dead_mask == 0) {
              ASSERT_GE(total, 1) << key << " n=" << n;
            }
          }
          int i = 0;
          for (; i < n; ++i) {
            do {
              ++state[i];
            } while (state[i] < states && !Valid(i, state[i]));
            if (state[i] < states) break;
            state[i] = 0;
          }
          if (i == n) break;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sipresolver::cluster
