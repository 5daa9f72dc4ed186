// What the phone benchmarks (phone_failover_bench, dns_face_phone_bench)
// share: the ITSP's _sip._udp SRV records a phone looks up itself, whether
// the phone (AoR dev1) is in a registrar's location table, a poll with a
// time limit, and the min/median/max summary.
#ifndef SIPRESOLVER_TESTS_BENCH_PHONE_BENCH_SUPPORT_H_
#define SIPRESOLVER_TESTS_BENCH_PHONE_BENCH_SUPPORT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/registrar_stack.h"

namespace sipresolver::testing {

// How long a phone benchmark waits for one outcome before giving up.
inline constexpr absl::Duration kPhoneGiveUp = absl::Minutes(5);

// Adds "_sip._udp.itsp.test SRV" -> srv_target:PORT_i, priority 10 * (i + 1)
// for each registrar to the stack's dnsmasq zone (what a phone alone looks
// up, RFC 3263) and restarts dnsmasq with it.
absl::Status PublishSipUdpSrv(RegistrarStack& stack, int registrars);

// Whether registrar i's location table holds the AoR "dev1".
bool RegisteredWith(const RegistrarStack& stack, int i);

// Polls `done` every 50 ms until it holds or `give_up` has passed; the time
// it took, or nullopt.
template <typename F>
std::optional<absl::Duration> TimeUntil(F done,
                                        absl::Duration give_up = kPhoneGiveUp) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < give_up) {
    if (done()) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return std::nullopt;
}

// "a / b / c s (min / median / max, n=N)", or "no result".
std::string Summary(std::vector<absl::Duration> times);
// The median in seconds; `times` must not be empty.
double MedianSeconds(std::vector<absl::Duration> times);
// One line per mode: its Summary and, beside "alone", how much sooner its
// median is; mode names padded to `width`.
void PrintModes(
    const std::vector<std::string>& modes,
    const std::map<std::string, std::vector<absl::Duration>>& results,
    int width);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_BENCH_PHONE_BENCH_SUPPORT_H_
