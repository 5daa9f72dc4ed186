#include "server/decision_groups.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/api_convert.h"
#include "server/decision_convert.h"

namespace sipresolver::server {
namespace {

decision::EndpointEvidence EvidenceOf(const health::EndpointStatus& s) {
  return decision::EndpointEvidence{
      s.decision_state == health::HealthState::kHealthy &&
          s.counters.state != health::HealthState::kHealthy,
      s.devices_confirm_failure};
}

// The order key: the candidates' endpoints in order.
std::string OrderKey(const std::vector<dns::Candidate>& order) {
  std::string key;
  for (const dns::Candidate& c : order)
    absl::StrAppend(&key, c.address, ":", c.port, ",");
  return key;
}

}  // namespace

DecisionGroups::DecisionGroups(const WatcherContext& context,
                               const decision::Profile& profile,
                               const ProfileCandidates& candidates,
                               OnChange on_change)
    : context_(context),
      profile_(profile),
      candidates_(candidates),
      on_change_(std::move(on_change)) {
  const decision::DecisionEngine waiting(profile_, context_.options.engine);
  ToDecision(waiting.decision(), 0, context_.clock.Now(),
             context_.wall_clock.Now(), waiting_message_);
  waiting_message_.set_reason(candidates_.ReasonFor(waiting.decision()));
}

const v1::Decision& DecisionGroups::Join(GroupMember& member) {
  if (!candidates_.resolved()) {
    waiting_.push_back(&member);
    return waiting_message_;
  }
  DecisionGroup& group = GroupFor(member);
  member.group = &group;
  group.members.insert(&member);
  return group.message;
}

void DecisionGroups::Leave(GroupMember& member) {
  DecisionGroup* group = std::exchange(member.group, nullptr);
  if (group == nullptr) {
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), &member),
                   waiting_.end());
    return;
  }
  group->members.erase(&member);
  if (!group->members.empty()) return;
  auto of_order = group_of_order_.find(group->key);
  if (of_order != group_of_order_.end() && of_order->second == group)
    group_of_order_.erase(of_order);
  groups_.erase(std::find_if(groups_.begin(), groups_.end(),
                             [&](const auto& g) { return g.get() == group; }));
}

const v1::Decision& DecisionGroups::MessageOf(const GroupMember& member) const {
  return member.group ? member.group->message : waiting_message_;
}

std::vector<dns::Candidate> DecisionGroups::OrderOf(
    const GroupMember& member) const {
  return decision::SpreadOrder(candidates_.candidates(), member.id,
                               member.mode);
}

DecisionGroup& DecisionGroups::GroupFor(GroupMember& member) {
  std::vector<dns::Candidate> order = OrderOf(member);
  std::string key = OrderKey(order);
  if (auto it = group_of_order_.find(key); it != group_of_order_.end())
    return *it->second;
  auto group = std::make_unique<DecisionGroup>(
      key, decision::DecisionEngine(profile_, context_.options.engine,
                                    member.applied));
  const absl::Time now = context_.clock.Now();
  group->engine.SetProbePathSuspect(context_.health.probe_path_suspect(), now);
  FeedHealth(*group, candidates_.pinned());
  group->engine.SetCandidates(std::move(order), now);
  DecisionGroup& g = *group;
  groups_.push_back(std::move(group));
  group_of_order_[key] = &g;
  Publish(g);
  Settle(g, /*changed=*/false);
  return g;
}

void DecisionGroups::OnCandidates(const std::vector<sip::Endpoint>& added,
                                  bool renewed) {
  absl::flat_hash_set<DecisionGroup*> fed;
  for (const auto& group : groups_) {
    if (FeedHealth(*group, added)) fed.insert(group.get());
  }
  if (renewed) {
    Regroup(fed);
  } else {
    // A failed lookup: the last candidates stay (nothing was added); only
    // the reason may now name the DNS error.
    for (const auto& group : groups_) Publish(*group);
  }
  // The first lookup ended: the waiting members form the first groups (none
  // existed before), each told once. A group starts from what its first
  // member that registers somewhere registers with.
  std::vector<GroupMember*> waiting = std::exchange(waiting_, {});
  std::stable_partition(
      waiting.begin(), waiting.end(),
      [](const GroupMember* m) { return m->applied.primary.has_value(); });
  absl::flat_hash_set<DecisionGroup*> formed;
  for (GroupMember* member : waiting) {
    DecisionGroup& group = GroupFor(*member);
    member->group = &group;
    group.members.insert(member);
    formed.insert(&group);
  }
  for (DecisionGroup* group : formed) on_change_(*group, waiting_message_);
}

void DecisionGroups::Regroup(const absl::flat_hash_set<DecisionGroup*>& fed) {
  const absl::Time now = context_.clock.Now();
  group_of_order_.clear();
  // Parts split off, and whether their decision changed.
  std::vector<std::pair<std::unique_ptr<DecisionGroup>, bool>> split_off;
  for (const auto& group : groups_) {
    // The members of each new order. The part whose order is unchanged (if
    // any) keeps the group, so each part split off has a new order.
    std::vector<
        std::pair<std::vector<dns::Candidate>, std::vector<GroupMember*>>>
        parts;
    absl::flat_hash_map<std::string, size_t> part_of;
    for (GroupMember* member : group->members) {
      std::vector<dns::Candidate> order = OrderOf(*member);
      auto [it, added] = part_of.try_emplace(OrderKey(order), parts.size());
      if (added)
        parts.emplace_back(std::move(order), std::vector<GroupMember*>{});
      parts[it->second].second.push_back(member);
    }
    if (auto same = part_of.find(group->key); same != part_of.end())
      std::swap(parts[0], parts[same->second]);
    const bool was_fed = fed.contains(group.get());
    for (size_t i = 1; i < parts.size(); ++i) {
      auto part = std::make_unique<DecisionGroup>(OrderKey(parts[i].first),
                                                  group->engine);
      part->message = group->message;
      for (GroupMember* member : parts[i].second) {
        group->members.erase(member);
        part->members.insert(member);
        member->group = part.get();
      }
      const bool changed =
          part->engine.SetCandidates(std::move(parts[i].first), now);
      split_off.emplace_back(std::move(part), was_fed || changed);
    }
    group->key = OrderKey(parts[0].first);
    const bool changed =
        group->engine.SetCandidates(std::move(parts[0].first), now);
    Settle(*group, was_fed || changed);
  }
  for (auto& [part, changed] : split_off) {
    DecisionGroup& g = *part;
    groups_.push_back(std::move(part));
    Settle(g, changed);
  }
  for (const auto& group : groups_)
    group_of_order_.try_emplace(group->key, group.get());
}

// What the tracker already knows of the pinned endpoints: they may have
// been probed (and settled) for another profile or a Resolve, and then no
// change will come to tell.
bool DecisionGroups::FeedHealth(DecisionGroup& group,
                                const std::vector<sip::Endpoint>& endpoints) {
  const absl::Time now = context_.clock.Now();
  bool changed = false;
  for (const sip::Endpoint& e : endpoints) {
    if (auto s = context_.health.Get(e)) {
      changed |=
          group.engine.SetHealth(e, s->decision_state, now, EvidenceOf(*s));
    }
  }
  return changed;
}

void DecisionGroups::OnHealth(const health::EndpointStatus& status) {
  const absl::Time now = context_.clock.Now();
  const decision::EndpointEvidence evidence = EvidenceOf(status);
  for (const auto& group : groups_) {
    Settle(*group, group->engine.SetHealth(
                       status.endpoint, status.decision_state, now, evidence));
  }
}

void DecisionGroups::OnProbePathSuspect(bool suspect) {
  const absl::Time now = context_.clock.Now();
  for (const auto& group : groups_) {
    Settle(*group, group->engine.SetProbePathSuspect(suspect, now));
  }
}

void DecisionGroups::Settle(DecisionGroup& group, bool changed) {
  if (changed) {
    const v1::Decision previous = group.message;
    Publish(group);
    on_change_(group, previous);
  }
  const absl::Time wake = group.engine.next_wakeup();
  if (wake == absl::InfiniteFuture()) {
    group.wakeup.reset();
    return;
  }
  group.wakeup =
      context_.timers.After(wake - context_.clock.Now(), [this, g = &group] {
        Settle(*g, g->engine.Advance(context_.clock.Now()));
      });
}

void DecisionGroups::Publish(DecisionGroup& group) {
  const decision::Decision& d = group.engine.decision();
  group.message.Clear();
  ToDecision(d, d.version, context_.clock.Now(), context_.wall_clock.Now(),
             group.message);
  group.message.set_reason(candidates_.ReasonFor(d));
}

}  // namespace sipresolver::server
