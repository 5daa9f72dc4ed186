#include "lib/dns/srv_order.h"

#include <algorithm>
#include <numeric>

namespace sipresolver::dns {
namespace {

// Appends the indices of one priority's records (`group`, consumed) in
// weighted order.
void AppendWeightedOrder(const std::vector<SrvRank>& ranks,
                         std::vector<size_t> group, Random& random,
                         std::vector<size_t>& out) {
  // Zero weights first, keeping their relative (answer) order.
  std::stable_partition(group.begin(), group.end(),
                        [&](size_t i) { return ranks[i].weight == 0; });
  while (!group.empty()) {
    uint64_t total = 0;
    for (size_t i : group) total += ranks[i].weight;
    const uint64_t pick = random.UniformInclusive(total);
    uint64_t running = 0;
    auto chosen = group.begin();
    for (auto it = group.begin(); it != group.end(); ++it) {
      running += ranks[*it].weight;
      if (running >= pick) {
        chosen = it;
        break;
      }
    }
    out.push_back(*chosen);
    group.erase(chosen);
  }
}

}  // namespace

std::vector<size_t> DrawSrvOrder(const std::vector<SrvRank>& ranks,
                                 Random& random) {
  std::vector<size_t> by_priority(ranks.size());
  std::iota(by_priority.begin(), by_priority.end(), 0);
  std::stable_sort(by_priority.begin(), by_priority.end(),
                   [&](size_t a, size_t b) {
                     return ranks[a].priority < ranks[b].priority;
                   });
  std::vector<size_t> ordered;
  ordered.reserve(ranks.size());
  auto begin = by_priority.begin();
  while (begin != by_priority.end()) {
    auto end = std::find_if(begin, by_priority.end(), [&](size_t i) {
      return ranks[i].priority != ranks[*begin].priority;
    });
    AppendWeightedOrder(ranks, std::vector<size_t>(begin, end), random,
                        ordered);
    begin = end;
  }
  return ordered;
}

std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records,
                                       Random& random) {
  std::vector<SrvRank> ranks;
  ranks.reserve(records.size());
  for (const SrvRecord& r : records) ranks.push_back({r.priority, r.weight});
  std::vector<SrvRecord> ordered;
  ordered.reserve(records.size());
  for (size_t i : DrawSrvOrder(ranks, random))
    ordered.push_back(std::move(records[i]));
  return ordered;
}

}  // namespace sipresolver::dns
