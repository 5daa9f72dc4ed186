#include "lib/decision/decision.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "lib/core/host_port.h"

namespace sipresolver::decision {
namespace {

bool SameCandidates(const std::vector<dns::Candidate>& a,
                    const std::vector<dns::Candidate>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameCandidate(a[i], b[i])) return false;
  }
  return true;
}

bool SameOptional(const std::optional<dns::Candidate>& a,
                  const std::optional<dns::Candidate>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || SameCandidate(*a, *b);
}

}  // namespace

// Not the TTL: behind a caching DNS resolver every renewal brings a new
// remaining TTL, and replicas see different ones; neither is a change for a
// device (and would cost every agent a hook run).
bool SameCandidate(const dns::Candidate& a, const dns::Candidate& b) {
  return std::tie(a.target, a.address, a.port, a.priority, a.weight,
                  a.source) ==
         std::tie(b.target, b.address, b.port, b.priority, b.weight, b.source);
}

bool SameContent(const Decision& a, const Decision& b) {
  return a.state == b.state && SameOptional(a.primary, b.primary) &&
         a.primary_health == b.primary_health &&
         SameOptional(a.secondary, b.secondary) &&
         SameCandidates(a.primary_fallback, b.primary_fallback) &&
         SameCandidates(a.secondary_fallback, b.secondary_fallback) &&
         SameCandidates(a.candidates, b.candidates) &&
         a.keep_alive == b.keep_alive && a.next_search == b.next_search &&
         a.assurance == b.assurance &&
         a.probe_path_suspect == b.probe_path_suspect;
}

bool EligibleAsSecondary(const dns::Candidate& candidate,
                         const sip::Endpoint& candidate_at,
                         const dns::Candidate& primary,
                         const sip::Endpoint& primary_at) {
  return candidate.priority >= primary.priority && candidate_at != primary_at;
}

std::string DescribeCandidate(const dns::Candidate& c) {
  std::string text = HostPort(c.address, c.port);
  if (!c.target.empty() && c.target != c.address) {
    absl::StrAppend(&text, " (", c.target, ")");
  }
  return text;
}

}  // namespace sipresolver::decision
