#include "tests/bench/phone_bench_support.h"

#include <algorithm>
#include <cstdio>

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

void PrintModes(
    const std::vector<std::string>& modes,
    const std::map<std::string, std::vector<absl::Duration>>& results,
    int width) {
  static const std::vector<absl::Duration> kNone;
  const auto of = [&](const std::string& mode) -> const auto& {
    const auto it = results.find(mode);
    return it == results.end() ? kNone : it->second;
  };
  for (const std::string& mode : modes) {
    std::printf("%-*s %s", width, (mode + ":").c_str(),
                Summary(of(mode)).c_str());
    if (mode != "alone" && !of(mode).empty() && !of("alone").empty()) {
      std::printf("; median %.1fx sooner than alone",
                  MedianSeconds(of("alone")) / MedianSeconds(of(mode)));
    }
    std::printf("\n");
  }
}

}  // namespace sipresolver::testing
