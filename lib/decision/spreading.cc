#include "lib/decision/spreading.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/core/stable_hash.h"

namespace sipresolver::decision {

double RendezvousScore(absl::string_view agent_id, const dns::Candidate& c) {
  // The NUL separator keeps ("ab", "c...") and ("a", "bc...") apart.
  const std::string key = absl::StrCat(agent_id, absl::string_view("\0", 1),
                                       c.address, ":", c.port);
  // Top 53 bits, centred in their bucket: strictly inside (0, 1), so ln(h)
  // is finite and negative.
  const double h =
      (static_cast<double>(StableHash64(key) >> 11) + 0.5) * 0x1.0p-53;
  const double weight = std::max<double>(c.weight, 1.0);
  return -weight / std::log(h);
}

std::vector<dns::Candidate> SpreadOrder(std::vector<dns::Candidate> candidates,
                                        absl::string_view agent_id,
                                        SpreadMode mode) {
  if (mode == SpreadMode::kDeviceOrder) return candidates;
  auto group_begin = candidates.begin();
  while (group_begin != candidates.end()) {
    // A run of equal priority; the input is in ascending priority, and
    // working on runs keeps priorities unmixed even if it were not.
    auto group_end = std::find_if(group_begin, candidates.end(),
                                  [&](const dns::Candidate& c) {
                                    return c.priority != group_begin->priority;
                                  });
    if (group_end - group_begin > 1) {
      std::vector<std::pair<double, dns::Candidate>> scored;
      for (auto it = group_begin; it != group_end; ++it) {
        scored.emplace_back(RendezvousScore(agent_id, *it), std::move(*it));
      }
      // Ties (practically impossible) keep the given order.
      std::stable_sort(
          scored.begin(), scored.end(),
          [](const auto& a, const auto& b) { return a.first > b.first; });
      auto out = group_begin;
      for (auto& [score, c] : scored) *out++ = std::move(c);
    }
    group_begin = group_end;
  }
  return candidates;
}

}  // namespace sipresolver::decision
