#include "lib/dns/srv_order.h"

#include <algorithm>

namespace sipresolver::dns {
namespace {

// Weighted selection within one priority; `group` is consumed.
void AppendWeightedOrder(std::vector<SrvRecord> group, Random& random,
                         std::vector<SrvRecord>& out) {
  // Zero weights first, keeping their relative (answer) order.
  std::stable_partition(group.begin(), group.end(),
                        [](const SrvRecord& r) { return r.weight == 0; });
  while (!group.empty()) {
    uint64_t total = 0;
    for (const SrvRecord& r : group) total += r.weight;
    const uint64_t pick = random.UniformInclusive(total);
    uint64_t running = 0;
    auto chosen = group.begin();
    for (auto it = group.begin(); it != group.end(); ++it) {
      running += it->weight;
      if (running >= pick) {
        chosen = it;
        break;
      }
    }
    out.push_back(std::move(*chosen));
    group.erase(chosen);
  }
}

}  // namespace

std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records,
                                       Random& random) {
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) {
                     return a.priority < b.priority;
                   });
  std::vector<SrvRecord> ordered;
  ordered.reserve(records.size());
  auto begin = records.begin();
  while (begin != records.end()) {
    auto end = std::find_if(begin, records.end(), [&](const SrvRecord& r) {
      return r.priority != begin->priority;
    });
    AppendWeightedOrder(std::vector<SrvRecord>(std::make_move_iterator(begin),
                                               std::make_move_iterator(end)),
                        random, ordered);
    begin = end;
  }
  return ordered;
}

}  // namespace sipresolver::dns
