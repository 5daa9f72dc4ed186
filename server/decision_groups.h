// DecisionGroups: the decisions of one profile's agents. Agents whose
// spread order of the candidates is the same share one DecisionEngine (a
// group), so a health change costs one engine step and one Decision message
// per group, not per agent.
//
// Before the first candidates there are no orders: agents wait, and each
// group formed then starts from what its first agent registers with. An
// agent that joins later joins the group of its order and takes its current
// decision, as one that reconnects (e.g. from another replica, which sees
// the same health) does: it is not moved off a server the rest of its group
// keeps; an agent of a new order starts a group from what it registers
// with. When new candidates order a group's agents differently, the group
// splits, each part keeping a copy of its engine, so no agent's history
// (current server, fallback timeline) is lost; groups are never merged.
// Loop thread only.
#ifndef SIPRESOLVER_SERVER_DECISION_GROUPS_H_
#define SIPRESOLVER_SERVER_DECISION_GROUPS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/decision/decision_engine.h"
#include "lib/decision/spreading.h"
#include "server/profile_candidates.h"
#include "server/watch_context.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

struct DecisionGroup;

// What the groups know of an agent.
struct GroupMember {
  std::string id;
  decision::SpreadMode mode = decision::SpreadMode::kSpread;
  decision::Registration applied;  // What it registers with when it joined.
  DecisionGroup* group = nullptr;  // Null while waiting for candidates.
};

struct DecisionGroup {
  DecisionGroup(std::string key, decision::DecisionEngine engine)
      : key(std::move(key)), engine(std::move(engine)) {}
  std::string key;  // The order its engine has.
  decision::DecisionEngine engine;
  // The engine's decision as agents get it, but for the version.
  v1::Decision message;
  absl::flat_hash_set<GroupMember*> members;
  std::unique_ptr<Timer> wakeup;
};

class DecisionGroups {
 public:
  // The group's members got a new message: its decision changed (the
  // engine's version went up by one), or they left the waiting list.
  using OnChange = std::function<void(const DecisionGroup& group,
                                      const v1::Decision& previous)>;

  DecisionGroups(const WatcherContext& context,
                 const decision::Profile& profile,
                 const ProfileCandidates& candidates, OnChange on_change);

  // Returns the member's message now.
  const v1::Decision& Join(GroupMember& member);
  void Leave(GroupMember& member);
  const v1::Decision& MessageOf(const GroupMember& member) const;

  // Each ProfileCandidates update.
  void OnCandidates(const std::vector<sip::Endpoint>& added, bool renewed);
  // A pinned endpoint's health changed.
  void OnHealth(const health::EndpointStatus& status);
  void OnProbePathSuspect(bool suspect);

 private:
  std::vector<dns::Candidate> OrderOf(const GroupMember& member) const;
  // The group of the member's order, or a new one that starts from what the
  // member registers with.
  DecisionGroup& GroupFor(GroupMember& member);
  // New candidates: splits groups whose members now have different orders
  // and hands every group its order. `fed`: groups whose engine changed with
  // the new endpoints' health.
  void Regroup(const absl::flat_hash_set<DecisionGroup*>& fed);
  // Hands the group the tracker's health of `endpoints`. True when its
  // decision changed.
  bool FeedHealth(DecisionGroup& group,
                  const std::vector<sip::Endpoint>& endpoints);
  // After an engine call: tells the members when `changed`, re-arms the
  // group's wakeup.
  void Settle(DecisionGroup& group, bool changed);
  // The group's message from its engine's decision.
  void Publish(DecisionGroup& group);

  const WatcherContext context_;
  const decision::Profile& profile_;
  const ProfileCandidates& candidates_;
  const OnChange on_change_;
  std::vector<GroupMember*> waiting_;  // In the order they joined.
  v1::Decision waiting_message_;
  std::vector<std::unique_ptr<DecisionGroup>> groups_;
  // The group a new member of an order joins (splits leave several).
  absl::flat_hash_map<std::string, DecisionGroup*> group_of_order_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_DECISION_GROUPS_H_
