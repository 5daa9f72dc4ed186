#include "server/profile_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"
#include "server/api_convert.h"

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

struct ProfileWatcher::Group {
  Group(std::string key, decision::DecisionEngine engine)
      : key(std::move(key)), engine(std::move(engine)) {}
  std::string key;  // OrderKey of the order its engine has.
  decision::DecisionEngine engine;
  // The engine's decision as agents get it, but for the version.
  v1::Decision message;
  absl::flat_hash_set<Agent*> agents;
  std::unique_ptr<Timer> wakeup;
};

struct ProfileWatcher::Agent {
  std::shared_ptr<DecisionSink> stream;
  std::string id;
  decision::SpreadMode mode;
  Group* group = nullptr;
  // Versions the agent sees: wall-clock based at subscription, so they grow
  // across reconnects and restarts; never below what the agent applied.
  // Sent: version_base + (the group engine's version - joined_at) + 1.
  uint64_t version_base = 0;
  uint64_t joined_at = 0;
  uint64_t last_version = 0;
  // What it registers with, kept only while the watcher has no candidates
  // (so no orders): its group forms at the first resolution.
  std::optional<sip::Endpoint> applied_primary;
  std::optional<sip::Endpoint> applied_secondary;
};

ProfileWatcher::ProfileWatcher(const WatcherContext& context,
                               decision::Profile profile)
    : context_(context),
      profile_(std::move(profile)),
      target_(decision::TargetOf(profile_)) {
  Resolve();
  heartbeat_ = context_.timers.After(context_.options.heartbeat,
                                     [this] { Heartbeat(); });
}

ProfileWatcher::~ProfileWatcher() {
  *alive_ = false;
  for (auto& [stream, agent] : agents_) Leave(*agent);
  Repin({});
}

void ProfileWatcher::EndAgents(const absl::Status& status) {
  for (auto& [stream, agent] : agents_) {
    Leave(*agent);
    agent->stream->End(status, /*reconnect_now=*/false);
    ending_.emplace(stream, std::move(agent->stream));
  }
  agents_.clear();
}

void ProfileWatcher::Leave(Agent& agent) {
  Group* group = std::exchange(agent.group, nullptr);
  if (group == nullptr) return;
  context_.metrics.OnAgentDecision(group->message,
                                   v1::Decision::default_instance());
  group->agents.erase(&agent);
  if (!group->agents.empty()) return;
  auto of_order = group_of_order_.find(group->key);
  if (of_order != group_of_order_.end() && of_order->second == group)
    group_of_order_.erase(of_order);
  groups_.erase(std::find_if(groups_.begin(), groups_.end(),
                             [&](const auto& g) { return g.get() == group; }));
}

void ProfileWatcher::Resolve() {
  dns::ServerSpec spec;
  spec.server = target_.server;
  spec.port = target_.port;
  spec.transport = profile_.transport;
  spec.ip_version = profile_.ip_version;
  spec.redundancy = decision::RedundancyApplies(profile_);
  context_.resolver.Resolve(
      spec,
      [this, alive = alive_](const absl::Status& status, dns::Resolution r) {
        if (*alive) OnResolved(status, std::move(r));
      });
}

void ProfileWatcher::OnResolved(const absl::Status& status,
                                dns::Resolution resolution) {
  absl::Duration next = context_.options.dns_retry;
  if (status.ok()) {
    dns_error_.clear();
    candidates_ = std::move(resolution.candidates);
    absl::Duration ttl = context_.options.max_refresh;
    for (const dns::Candidate& c : candidates_) ttl = std::min(ttl, c.ttl);
    next = std::max(ttl, context_.options.min_refresh);
  } else {
    // Keep the last candidates (their decisions stay valid); first failure
    // leaves the agents searching with the error as the reason.
    dns_error_ = std::string(status.message());
  }
  const bool first = !resolved_once_;
  resolved_once_ = true;
  if (status.ok() || first) {
    const std::vector<sip::Endpoint> added = Repin(candidates_);
    if (!refused_.ok()) {
      // A decision that ignored the refused server would not be the device's,
      // and one that assumed it works would be a guess: tell the agents why.
      // No more renewals: the refusal stands until the hub reaps this
      // watcher; a new one looks again.
      EndAgents(refused_);
      refresh_.reset();
      return;
    }
    for (const auto& group : groups_) FeedHealth(*group, added);
    Regroup();
  }
  refresh_ = context_.timers.After(next, [this] { Resolve(); });
}

// Pins what the candidates need, unpins what they no longer do. An endpoint
// the health tracker refuses is never probed and refuses the profile, which
// then pins nothing (its probes would serve no one).
std::vector<sip::Endpoint> ProfileWatcher::Repin(
    const std::vector<dns::Candidate>& candidates) {
  const std::string domain =
      dns::ParseIpLiteral(target_.server) ? "" : target_.server;
  std::vector<sip::Endpoint> wanted;
  for (const dns::Candidate& c : candidates) {
    sip::Endpoint e{c.address, c.port, profile_.transport};
    if (std::find(wanted.begin(), wanted.end(), e) == wanted.end())
      wanted.push_back(e);
  }
  refused_ = absl::OkStatus();
  std::vector<sip::Endpoint> added;
  for (const sip::Endpoint& e : wanted) {
    if (std::find(pinned_.begin(), pinned_.end(), e) != pinned_.end()) continue;
    if (absl::Status s = context_.health.Pin(e, domain); !s.ok()) {
      context_.metrics.OnProbeTargetRefused(s.code());
      if (refused_.ok()) {
        refused_ = absl::Status(
            s.code(), absl::StrCat("no decision for ", target_.server, ": ",
                                   s.message()));
      }
      continue;
    }
    pinned_.push_back(e);
    added.push_back(e);
  }
  if (!refused_.ok()) wanted.clear();
  for (auto it = pinned_.begin(); it != pinned_.end();) {
    if (std::find(wanted.begin(), wanted.end(), *it) == wanted.end()) {
      context_.health.Unpin(*it);
      it = pinned_.erase(it);
    } else {
      ++it;
    }
  }
  if (!refused_.ok()) added.clear();
  return added;
}

absl::Status ProfileWatcher::Subscribe(
    const std::shared_ptr<DecisionSink>& stream, const WatchRequest& request) {
  if (!refused_.ok()) return refused_;
  auto agent = std::make_unique<Agent>();
  agent->stream = stream;
  agent->id = request.agent_id;
  agent->mode = request.spread_mode;
  agent->version_base = std::max<uint64_t>(
      static_cast<uint64_t>(absl::ToUnixMillis(context_.wall_clock.Now())) *
          1000,
      request.last_applied_version);
  if (!resolved_once_) {
    agent->applied_primary = request.applied_primary;
    agent->applied_secondary = request.applied_secondary;
  }
  Group& group = GroupFor(*agent, request);
  agent->group = &group;
  agent->joined_at = group.engine.decision().version;
  group.agents.insert(agent.get());
  context_.metrics.OnAgentDecision(v1::Decision::default_instance(),
                                   group.message);
  Agent& a = *agent;
  agents_.emplace(stream.get(), std::move(agent));
  // Nothing decided yet: the reason (resolving, DNS error) may be newer.
  if (group.engine.decision().version == 0) Publish(group);
  Send(a);  // The first message: the current decision.
  return absl::OkStatus();
}

std::vector<dns::Candidate> ProfileWatcher::OrderFor(const Agent& agent) const {
  return decision::SpreadOrder(candidates_, agent.id, agent.mode);
}

ProfileWatcher::Group& ProfileWatcher::GroupFor(const Agent& agent,
                                                const WatchRequest& request) {
  std::vector<dns::Candidate> order = OrderFor(agent);
  std::string key = OrderKey(order);
  if (auto it = group_of_order_.find(key); it != group_of_order_.end())
    return *it->second;
  auto group = std::make_unique<Group>(
      key, decision::DecisionEngine(profile_, context_.options.engine));
  const absl::Time now = context_.clock.Now();
  group->engine.Adopt(request.applied_primary, request.applied_secondary);
  group->engine.SetProbePathSuspect(context_.health.probe_path_suspect(), now);
  FeedHealth(*group, pinned_);
  if (resolved_once_) group->engine.SetCandidates(std::move(order), now);
  Group& g = *group;
  groups_.push_back(std::move(group));
  group_of_order_[key] = &g;
  Publish(g);
  Settle(g, /*changed=*/false);
  return g;
}

void ProfileWatcher::Regroup() {
  const absl::Time now = context_.clock.Now();
  group_of_order_.clear();
  // Parts split off, and whether their decision changed with their order.
  std::vector<std::pair<std::unique_ptr<Group>, bool>> split_off;
  for (const auto& group : groups_) {
    // The agents of each new order; the first order keeps the group.
    std::vector<std::pair<std::vector<dns::Candidate>, std::vector<Agent*>>>
        parts;
    absl::flat_hash_map<std::string, size_t> part_of;
    for (Agent* agent : group->agents) {
      std::vector<dns::Candidate> order = OrderFor(*agent);
      auto [it, added] = part_of.try_emplace(OrderKey(order), parts.size());
      if (added) parts.emplace_back(std::move(order), std::vector<Agent*>{});
      parts[it->second].second.push_back(agent);
    }
    if (parts.empty())
      parts.emplace_back(OrderFor(Agent{}), std::vector<Agent*>{});
    // Before the first candidates all agents wait in one group: each new
    // group starts from what one of its own agents registers with.
    const bool first_candidates = !group->engine.has_candidates();
    auto adopt = [&](decision::DecisionEngine& engine,
                     const std::vector<Agent*>& agents) {
      if (!first_candidates) return;
      engine.Adopt(std::nullopt, std::nullopt);
      for (Agent* agent : agents) {
        if (agent->applied_primary) {
          engine.Adopt(agent->applied_primary, agent->applied_secondary);
          break;
        }
      }
      for (Agent* agent : agents) {
        agent->applied_primary.reset();
        agent->applied_secondary.reset();
      }
    };
    for (size_t i = 1; i < parts.size(); ++i) {
      auto part =
          std::make_unique<Group>(OrderKey(parts[i].first), group->engine);
      adopt(part->engine, parts[i].second);
      part->message = group->message;
      for (Agent* agent : parts[i].second) {
        group->agents.erase(agent);
        part->agents.insert(agent);
        agent->group = part.get();
      }
      const bool changed =
          part->engine.SetCandidates(std::move(parts[i].first), now);
      split_off.emplace_back(std::move(part), changed);
    }
    adopt(group->engine, parts[0].second);
    group->key = OrderKey(parts[0].first);
    Settle(*group, group->engine.SetCandidates(std::move(parts[0].first), now));
  }
  for (auto& [part, changed] : split_off) {
    Group& g = *part;
    groups_.push_back(std::move(part));
    Settle(g, changed);
  }
  for (const auto& group : groups_)
    group_of_order_.try_emplace(group->key, group.get());
}

// What the tracker already knows of the pinned endpoints: they may have
// been probed (and settled) for another profile or a Resolve, and then no
// change will come to tell.
bool ProfileWatcher::FeedHealth(Group& group,
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

void ProfileWatcher::Unsubscribe(DecisionSink* stream) {
  ending_.erase(stream);
  auto it = agents_.find(stream);
  if (it == agents_.end()) return;
  Leave(*it->second);
  agents_.erase(it);
}

void ProfileWatcher::OnHealth(const health::EndpointStatus& status) {
  if (std::find(pinned_.begin(), pinned_.end(), status.endpoint) ==
      pinned_.end())
    return;
  const absl::Time start = context_.clock.Now();
  const decision::EndpointEvidence evidence = EvidenceOf(status);
  for (const auto& group : groups_) {
    Settle(*group,
           group->engine.SetHealth(status.endpoint, status.decision_state,
                                   start, evidence));
  }
  if (!agents_.empty()) context_.metrics.OnFanOut(context_.clock.Now() - start);
}

void ProfileWatcher::OnProbePathSuspect(bool suspect) {
  const absl::Time now = context_.clock.Now();
  for (const auto& group : groups_) {
    Settle(*group, group->engine.SetProbePathSuspect(suspect, now));
  }
}

void ProfileWatcher::EndAll(const absl::Status& status) {
  for (auto& [stream, agent] : agents_)
    agent->stream->End(status, /*reconnect_now=*/true);
}

void ProfileWatcher::Settle(Group& group, bool changed) {
  if (changed) {
    const v1::Decision previous = group.message;
    Publish(group);
    for (Agent* agent : group.agents) {
      context_.metrics.OnAgentDecision(previous, group.message);
      Send(*agent);
    }
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

void ProfileWatcher::Publish(Group& group) {
  const decision::Decision& d = group.engine.decision();
  group.message.Clear();
  ToDecision(d, d.version, context_.clock.Now(), context_.wall_clock.Now(),
             group.message);
  if (d.version == 0) {  // The engine has decided nothing yet: say why.
    group.message.set_reason(
        !resolved_once_       ? absl::StrCat("resolving ", target_.server)
        : !dns_error_.empty() ? absl::StrCat("DNS: ", dns_error_)
                              : "waiting for the first probe results");
  } else if (candidates_.empty() && !dns_error_.empty()) {
    // "No candidates" alone would hide what the lookups found.
    group.message.set_reason(
        absl::StrCat("DNS: ", dns_error_, "; ", group.message.reason()));
  }
}

void ProfileWatcher::Send(Agent& agent) {
  v1::Decision message = agent.group->message;
  agent.last_version =
      agent.version_base +
      (agent.group->engine.decision().version - agent.joined_at) + 1;
  message.set_version(agent.last_version);
  SetTimestamp(context_.wall_clock.Now(), *message.mutable_generated_at());
  context_.metrics.OnDecisionPublished(message.state());
  if (!agent.stream->Offer(std::move(message)))
    context_.metrics.OnSlowStreamDropped();
}

void ProfileWatcher::Heartbeat() {
  for (auto& [raw, stream] : ending_) {
    if (!stream->CancelIfStalled()) context_.metrics.OnSlowStreamDropped();
  }
  for (auto& [stream, agent] : agents_) {
    v1::Decision beat = agent->group->message;
    beat.set_version(agent->last_version);
    beat.set_heartbeat(true);
    SetTimestamp(context_.wall_clock.Now(), *beat.mutable_generated_at());
    if (!agent->stream->OfferHeartbeat(std::move(beat)))
      context_.metrics.OnSlowStreamDropped();
  }
  heartbeat_ = context_.timers.After(context_.options.heartbeat,
                                     [this] { Heartbeat(); });
}

}  // namespace sipresolver::server
