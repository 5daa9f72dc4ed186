// ProfileCandidates: the candidate servers of one ITSP profile, shared by
// all its agents. The redundancy target is resolved as the device does (S3),
// renewed when the smallest TTL runs out (S11) and retried after failures,
// keeping the last candidates meanwhile; the candidates' endpoints are
// pinned in the health tracker so they are probed. A server the tracker
// refuses (allowlist, probe caps) refuses the whole profile: nothing is
// pinned and nothing renewed any more. Loop thread only.
#ifndef SIPRESOLVER_SERVER_PROFILE_CANDIDATES_H_
#define SIPRESOLVER_SERVER_PROFILE_CANDIDATES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/decision/decision.h"
#include "lib/decision/profile.h"
#include "server/watch_context.h"

namespace sipresolver::server {

class ProfileCandidates {
 public:
  // After each resolution until refused: `added` are the endpoints pinned
  // anew (their health may be known already); `renewed` is false when the
  // lookup failed and the last candidates stay.
  using OnUpdate = std::function<void(const std::vector<sip::Endpoint>& added,
                                      bool renewed)>;

  ProfileCandidates(const WatcherContext& context,
                    const decision::Profile& profile, OnUpdate on_update);
  ~ProfileCandidates();  // Unpins.

  // The first lookup: `on_update` may run before Start returns.
  void Start() { Resolve(); }

  bool resolved() const { return resolved_; }  // A first lookup has ended.
  const std::vector<dns::Candidate>& candidates() const { return candidates_; }
  bool Pins(const sip::Endpoint& endpoint) const;
  const std::vector<sip::Endpoint>& pinned() const { return pinned_; }
  // Why the candidates cannot be decided on: a server the allowlist refuses
  // (PERMISSION_DENIED) or the probe caps (RESOURCE_EXHAUSTED). Final.
  const absl::Status& refused() const { return refused_; }
  // The reason agents see for `decision`: why nothing is decided yet, or the
  // DNS error behind "no candidates".
  std::string ReasonFor(const decision::Decision& decision) const;

 private:
  void Resolve();
  void OnResolved(const absl::Status& status, dns::Resolution resolution);
  // Pins what `candidates_` need and unpins the rest; returns what was
  // pinned anew.
  std::vector<sip::Endpoint> Repin();

  const WatcherContext context_;
  const decision::Profile& profile_;
  const decision::RedundancyTarget target_;
  const OnUpdate on_update_;
  std::vector<dns::Candidate> candidates_;
  bool resolved_ = false;
  std::string dns_error_;  // Of the latest lookup; empty when it worked.
  std::vector<sip::Endpoint> pinned_;
  absl::Status refused_;
  std::unique_ptr<Timer> refresh_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_PROFILE_CANDIDATES_H_
