// Fresh SIP identifiers (RFC 3261 8.1.1): Via branch with the magic cookie,
// From tag, Call-ID. Random comes in so tests can make them predictable.
#ifndef SIPRESOLVER_LIB_SIP_IDS_H_
#define SIPRESOLVER_LIB_SIP_IDS_H_

#include <string>

#include "lib/core/random.h"

namespace sipresolver::sip {

inline constexpr char kBranchCookie[] = "z9hG4bK";

// "z9hG4bK" followed by 16 random hex digits.
std::string NewBranch(Random& random);
// 16 random hex digits.
std::string NewTag(Random& random);
// 32 random hex digits, "@" and `host`.
std::string NewCallId(Random& random, const std::string& host);

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_IDS_H_
