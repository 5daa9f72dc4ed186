// The order in which a client tries SRV targets (RFC 2782): ascending
// priority; within one priority, a weighted random order so that load splits
// by weight across a fleet of devices.
#ifndef SIPRESOLVER_LIB_DNS_SRV_ORDER_H_
#define SIPRESOLVER_LIB_DNS_SRV_ORDER_H_

#include <vector>

#include "lib/core/random.h"
#include "lib/dns/dns_answer.h"

namespace sipresolver::dns {

// Returns `records` sorted by priority with each priority's records in RFC
// 2782 weighted order: zero-weight records placed first, then repeatedly pick
// a uniform number r in [0, sum of remaining weights] and take the first
// record whose running weight sum reaches r.
std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records,
                                       Random& random);

}  // namespace sipresolver::dns

#endif  // SIPRESOLVER_LIB_DNS_SRV_ORDER_H_
