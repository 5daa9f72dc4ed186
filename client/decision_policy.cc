#include "client/decision_policy.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace sipresolver::client {
namespace {

// The candidate of `d` at `c`'s endpoint, or null.
const v1::Candidate* Find(const v1::Decision& d, const v1::Candidate& c) {
  for (const v1::Candidate& x : d.candidates()) {
    if (x.address() == c.address() && x.port() == c.port()) return &x;
  }
  return nullptr;
}

}  // namespace

bool SameDecision(const v1::Decision& a, const v1::Decision& b) {
  v1::Decision x = a, y = b;
  for (v1::Decision* d : {&x, &y}) {
    d->clear_version();
    d->clear_heartbeat();
    d->clear_reason();
    d->clear_generated_at();
    // A remaining TTL differs between replicas and renewals (caching DNS).
    if (d->has_primary()) d->mutable_primary()->clear_ttl_seconds();
    if (d->has_secondary()) d->mutable_secondary()->clear_ttl_seconds();
    for (auto* list :
         {d->mutable_primary_fallback(), d->mutable_secondary_fallback(),
          d->mutable_candidates()})
      for (v1::Candidate& c : *list) c.clear_ttl_seconds();
  }
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

std::optional<v1::Decision> DecisionPolicy::Accept(
    const std::optional<v1::Decision>& held, v1::Decision incoming) {
  if (incoming.state() == v1::DECISION_STATE_SEARCHING && held &&
      !stream_decided_) {
    return std::nullopt;
  }
  stream_decided_ = true;
  if (incoming.assurance() == v1::ASSURANCE_UNCONFIRMED && held &&
      held->state() == v1::DECISION_STATE_ACTIVE && held->has_primary()) {
    if (const v1::Candidate* p = Find(incoming, held->primary())) {
      const bool moved = p->address() != incoming.primary().address() ||
                         p->port() != incoming.primary().port();
      *incoming.mutable_primary() = *p;
      const v1::Candidate* s =
          held->has_secondary() ? Find(incoming, held->secondary()) : nullptr;
      if (s && (s->address() != p->address() || s->port() != p->port())) {
        *incoming.mutable_secondary() = *s;
      } else if (incoming.has_secondary() &&
                 incoming.secondary().address() == p->address() &&
                 incoming.secondary().port() == p->port()) {
        incoming.clear_secondary();
      }
      if (moved) {
        incoming.set_reason(
            absl::StrCat(incoming.reason(),
                         "; the agent keeps the primary it registered with "
                         "(unconfirmed decisions never move it)"));
      }
    }
  }
  return incoming;
}

}  // namespace sipresolver::client
