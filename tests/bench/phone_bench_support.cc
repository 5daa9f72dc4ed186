#include "tests/bench/phone_bench_support.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace sipresolver::testing {

absl::Status PublishSipUdpSrv(RegistrarStack& stack, int registrars) {
  DnsZone zone = stack.zone();
  for (int i = 0; i < registrars; ++i) {
    zone.srv.push_back({"_sip._udp.itsp.test", "pbx.test",
                        stack.registrar(i).port(),
                        static_cast<uint16_t>(10 * (i + 1)), 10});
  }
  return stack.dns().Restart(zone);
}

bool RegisteredWith(const RegistrarStack& stack, int i) {
  absl::StatusOr<std::string> table = stack.registrar(i).Locations();
  return table.ok() && table->find("AoR: dev1\n") != std::string::npos;
}

std::string Summary(std::vector<absl::Duration> times) {
  std::sort(times.begin(), times.end());
  if (times.empty()) return "no result";
  return absl::StrFormat("%.2f / %.2f / %.2f s (min / median / max, n=%d)",
                         absl::ToDoubleSeconds(times.front()),
                         absl::ToDoubleSeconds(times[times.size() / 2]),
                         absl::ToDoubleSeconds(times.back()),
                         static_cast<int>(times.size()));
}

double MedianSeconds(std::vector<absl::Duration> times) {
  std::sort(times.begin(), times.end());
  return absl::ToDoubleSeconds(times[times.size() / 2]);
}

}  // namespace sipresolver::testing
