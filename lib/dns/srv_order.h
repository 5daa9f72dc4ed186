// The order in which a client tries SRV targets (RFC 2782): ascending
// priority; within one priority, a weighted random order so that load splits
// by weight across a fleet of devices.
#ifndef SIPRESOLVER_LIB_DNS_SRV_ORDER_H_
#define SIPRESOLVER_LIB_DNS_SRV_ORDER_H_

#include <cstdint>
#include <vector>

#include "lib/core/random.h"
#include "lib/dns/dns_answer.h"

namespace sipresolver::dns {

// What the order of one SRV record depends on.
struct SrvRank {
  uint16_t priority = 0;
  uint16_t weight = 0;
};

// Indices into `ranks` sorted by priority, each priority's records in RFC
// 2782 weighted order: zero-weight records placed first (in input order),
// then repeatedly pick a uniform number r in [0, sum of remaining weights]
// and take the first record whose running weight sum reaches r. One draw per
// call: callers that answer many devices from one resolution call it for
// each, as each device draws at each lookup.
std::vector<size_t> DrawSrvOrder(const std::vector<SrvRank>& ranks,
                                 Random& random);

// `records` in the order DrawSrvOrder draws for them.
std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records,
                                       Random& random);

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_SRV_ORDER_H_
