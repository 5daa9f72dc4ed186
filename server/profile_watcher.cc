#include "server/profile_watcher.h"

#include <algorithm>
#include <utility>

#include "server/api_convert.h"

namespace sipresolver::server {

ProfileWatcher::ProfileWatcher(const WatcherContext& context,
                               decision::Profile profile)
    : context_(context),
      profile_(std::move(profile)),
      candidates_(context_, profile_,
                  [this](const std::vector<sip::Endpoint>& added,
                         bool renewed) { OnCandidates(added, renewed); }),
      groups_(context_, profile_, candidates_,
              [this](const DecisionGroup& group, const v1::Decision& previous) {
                OnGroupChange(group, previous);
              }) {
  heartbeat_ = context_.timers.After(context_.options.heartbeat,
                                     [this] { Heartbeat(); });
  candidates_.Start();
}

ProfileWatcher::~ProfileWatcher() {
  for (auto& [stream, agent] : agents_) {
    context_.metrics.OnAgentDecision(groups_.MessageOf(*agent),
                                     v1::Decision::default_instance());
    groups_.Leave(*agent);
  }
}

void ProfileWatcher::OnCandidates(const std::vector<sip::Endpoint>& added,
                                  bool renewed) {
  if (!candidates_.refused().ok()) {
    // A decision that ignored the refused server would not be the device's,
    // and one that assumed it works would be a guess: tell the agents why.
    EndAgents(candidates_.refused());
    return;
  }
  groups_.OnCandidates(added, renewed);
}

absl::Status ProfileWatcher::Subscribe(
    const std::shared_ptr<DecisionSink>& stream, const WatchRequest& request) {
  if (!candidates_.refused().ok()) return candidates_.refused();
  auto agent = std::make_unique<Agent>();
  agent->id = request.agent_id;
  agent->mode = request.spread_mode;
  agent->applied = request.applied;
  agent->stream = stream;
  agent->version = std::max<uint64_t>(
      static_cast<uint64_t>(absl::ToUnixMillis(context_.wall_clock.Now())) *
          1000,
      request.last_applied_version);
  const v1::Decision& decision = groups_.Join(*agent);
  context_.metrics.OnAgentDecision(v1::Decision::default_instance(), decision);
  Send(*agent, decision);  // The first message: the current decision.
  agents_.emplace(stream.get(), std::move(agent));
  return absl::OkStatus();
}

void ProfileWatcher::Unsubscribe(DecisionSink* stream) {
  ending_.erase(stream);
  auto it = agents_.find(stream);
  if (it == agents_.end()) return;
  context_.metrics.OnAgentDecision(groups_.MessageOf(*it->second),
                                   v1::Decision::default_instance());
  groups_.Leave(*it->second);
  agents_.erase(it);
}

void ProfileWatcher::EndAgents(const absl::Status& status) {
  for (auto& [stream, agent] : agents_) {
    context_.metrics.OnAgentDecision(groups_.MessageOf(*agent),
                                     v1::Decision::default_instance());
    groups_.Leave(*agent);
    agent->stream->End(status, /*reconnect_now=*/false);
    ending_.emplace(stream, std::move(agent->stream));
  }
  agents_.clear();
}

void ProfileWatcher::OnHealth(const health::EndpointStatus& status) {
  if (!candidates_.Pins(status.endpoint)) return;
  const absl::Time start = context_.clock.Now();
  groups_.OnHealth(status);
  if (!agents_.empty()) context_.metrics.OnFanOut(context_.clock.Now() - start);
}

void ProfileWatcher::OnProbePathSuspect(bool suspect) {
  groups_.OnProbePathSuspect(suspect);
}

void ProfileWatcher::EndAll(const absl::Status& status) {
  for (auto& [stream, agent] : agents_)
    agent->stream->End(status, /*reconnect_now=*/true);
}

void ProfileWatcher::OnGroupChange(const DecisionGroup& group,
                                   const v1::Decision& previous) {
  for (GroupMember* member : group.members) {
    context_.metrics.OnAgentDecision(previous, group.message);
    Send(static_cast<Agent&>(*member), group.message);
  }
}

void ProfileWatcher::Send(Agent& agent, const v1::Decision& decision) {
  v1::Decision message = decision;
  message.set_version(++agent.version);
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
    v1::Decision beat = groups_.MessageOf(*agent);
    beat.set_version(agent->version);
    beat.set_heartbeat(true);
    SetTimestamp(context_.wall_clock.Now(), *beat.mutable_generated_at());
    if (!agent->stream->OfferHeartbeat(std::move(beat)))
      context_.metrics.OnSlowStreamDropped();
  }
  heartbeat_ = context_.timers.After(context_.options.heartbeat,
                                     [this] { Heartbeat(); });
}

}  // namespace sipresolver::server
