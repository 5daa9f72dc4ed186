#include "server/profile_watcher.h"

#include <algorithm>

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

}  // namespace

struct ProfileWatcher::Agent {
  std::shared_ptr<DecisionSink> stream;
  std::string id;
  decision::SpreadMode mode;
  decision::DecisionEngine engine;
  // Versions the agent sees: wall-clock based at subscription, so they grow
  // across reconnects and restarts; never below what the agent applied.
  uint64_t version_base = 0;
  v1::Decision last_sent;
  std::unique_ptr<Timer> wakeup;
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
  for (auto& [stream, agent] : agents_) {
    context_.metrics.OnAgentDecision(agent->last_sent,
                                     v1::Decision::default_instance());
  }
  Repin({});
}

void ProfileWatcher::EndAgents(const absl::Status& status) {
  for (auto& [stream, agent] : agents_) {
    context_.metrics.OnAgentDecision(agent->last_sent,
                                     v1::Decision::default_instance());
    agent->stream->End(status, /*reconnect_now=*/false);
    ending_.emplace(stream, std::move(agent->stream));
  }
  agents_.clear();
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
    for (auto& [stream, agent] : agents_) {
      const bool health_changed = FeedHealth(*agent, added);
      const bool candidates_changed = Feed(*agent);
      Settle(*agent, health_changed || candidates_changed);
    }
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
  auto agent = std::make_unique<Agent>(
      Agent{stream,
            request.agent_id,
            request.spread_mode,
            decision::DecisionEngine(profile_, context_.options.engine),
            0,
            {},
            nullptr});
  agent->version_base = std::max<uint64_t>(
      static_cast<uint64_t>(absl::ToUnixMillis(context_.wall_clock.Now())) *
          1000,
      request.last_applied_version);
  agent->engine.SetProbePathSuspect(context_.health.probe_path_suspect(),
                                    context_.clock.Now());
  FeedHealth(*agent, pinned_);
  Agent& a = *agent;
  agents_.emplace(stream.get(), std::move(agent));
  if (resolved_once_) Feed(a);
  Settle(a, /*changed=*/true);  // The first message: the current decision.
  return absl::OkStatus();
}

// What the tracker already knows of the pinned endpoints: they may have
// been probed (and settled) for another profile or a Resolve, and then no
// change will come to tell.
bool ProfileWatcher::FeedHealth(Agent& agent,
                                const std::vector<sip::Endpoint>& endpoints) {
  const absl::Time now = context_.clock.Now();
  bool changed = false;
  for (const sip::Endpoint& e : endpoints) {
    if (auto s = context_.health.Get(e)) {
      changed |=
          agent.engine.SetHealth(e, s->decision_state, now, EvidenceOf(*s));
    }
  }
  return changed;
}

bool ProfileWatcher::Feed(Agent& agent) {
  return agent.engine.SetCandidates(
      decision::SpreadOrder(candidates_, agent.id, agent.mode),
      context_.clock.Now());
}

void ProfileWatcher::Unsubscribe(DecisionSink* stream) {
  ending_.erase(stream);
  auto it = agents_.find(stream);
  if (it == agents_.end()) return;
  context_.metrics.OnAgentDecision(it->second->last_sent,
                                   v1::Decision::default_instance());
  agents_.erase(it);
}

void ProfileWatcher::OnHealth(const health::EndpointStatus& status) {
  if (std::find(pinned_.begin(), pinned_.end(), status.endpoint) ==
      pinned_.end())
    return;
  const absl::Time start = context_.clock.Now();
  const decision::EndpointEvidence evidence = EvidenceOf(status);
  for (auto& [stream, agent] : agents_) {
    Settle(*agent,
           agent->engine.SetHealth(status.endpoint, status.decision_state,
                                   start, evidence));
  }
  if (!agents_.empty()) context_.metrics.OnFanOut(context_.clock.Now() - start);
}

void ProfileWatcher::OnProbePathSuspect(bool suspect) {
  const absl::Time now = context_.clock.Now();
  for (auto& [stream, agent] : agents_) {
    Settle(*agent, agent->engine.SetProbePathSuspect(suspect, now));
  }
}

void ProfileWatcher::EndAll(const absl::Status& status) {
  for (auto& [stream, agent] : agents_)
    agent->stream->End(status, /*reconnect_now=*/true);
}

void ProfileWatcher::Settle(Agent& agent, bool changed) {
  if (changed) Send(agent);
  const absl::Time wake = agent.engine.next_wakeup();
  if (wake == absl::InfiniteFuture()) {
    agent.wakeup.reset();
    return;
  }
  agent.wakeup =
      context_.timers.After(wake - context_.clock.Now(), [this, a = &agent] {
        Settle(*a, a->engine.Advance(context_.clock.Now()));
      });
}

void ProfileWatcher::Send(Agent& agent) {
  const decision::Decision& d = agent.engine.decision();
  const v1::Decision previous = std::move(agent.last_sent);
  agent.last_sent.Clear();
  ToDecision(d, agent.version_base + d.version, context_.clock.Now(),
             context_.wall_clock.Now(), agent.last_sent);
  if (d.version == 0) {  // The engine has decided nothing yet: say why.
    agent.last_sent.set_reason(
        !resolved_once_       ? absl::StrCat("resolving ", target_.server)
        : !dns_error_.empty() ? absl::StrCat("DNS: ", dns_error_)
                              : "waiting for the first probe results");
  } else if (candidates_.empty() && !dns_error_.empty()) {
    // "No candidates" alone would hide what the lookups found.
    agent.last_sent.set_reason(
        absl::StrCat("DNS: ", dns_error_, "; ", agent.last_sent.reason()));
  }
  context_.metrics.OnDecisionPublished(agent.last_sent.state());
  context_.metrics.OnAgentDecision(previous, agent.last_sent);
  if (!agent.stream->Offer(agent.last_sent))
    context_.metrics.OnSlowStreamDropped();
}

void ProfileWatcher::Heartbeat() {
  for (auto& [raw, stream] : ending_) {
    if (!stream->CancelIfStalled()) context_.metrics.OnSlowStreamDropped();
  }
  for (auto& [stream, agent] : agents_) {
    v1::Decision beat = agent->last_sent;
    beat.set_heartbeat(true);
    SetTimestamp(context_.wall_clock.Now(), *beat.mutable_generated_at());
    if (!agent->stream->OfferHeartbeat(beat))
      context_.metrics.OnSlowStreamDropped();
  }
  heartbeat_ = context_.timers.After(context_.options.heartbeat,
                                     [this] { Heartbeat(); });
}

}  // namespace sipresolver::server
