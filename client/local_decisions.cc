#include "client/local_decisions.h"

#include <vector>

#include "google/protobuf/util/time_util.h"

namespace sipresolver::client {
namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(t));
}

// The C rules' view of the candidates; points into `d`.
std::vector<lf_candidate> ViewOf(const v1::Decision& d) {
  std::vector<lf_candidate> out;
  out.reserve(d.candidates_size());
  for (const v1::Candidate& c : d.candidates()) {
    out.push_back({c.address().c_str(), c.port(), c.priority()});
  }
  return out;
}

int Find(const std::vector<lf_candidate>& view, const std::string& address,
         uint32_t port) {
  return lf_find(view.data(), static_cast<int>(view.size()), address.c_str(),
                 port);
}

}  // namespace

const char* DecisionSourceName(DecisionSource source) {
  return source == DecisionSource::kAgent ? "agent" : "service";
}

ProfileServer RedundancyServer(const v1::ItspProfile& p) {
  const lf_server s =
      lf_profile_server(p.outbound_proxy().c_str(), p.outbound_proxy_port(),
                        p.registrar_server().c_str(), p.registrar_server_port(),
                        p.proxy_server().c_str(), p.proxy_server_port());
  return {s.server, s.port};
}

v1::Decision LocalFailoverDecision(const v1::Decision& held, int primary,
                                   int secondary, const std::string& address,
                                   uint32_t port, uint32_t code,
                                   absl::Time generated_at) {
  v1::Decision d = held;
  d.set_state(v1::DECISION_STATE_ACTIVE);
  d.set_assurance(v1::ASSURANCE_UNCONFIRMED);
  d.set_probe_path_suspect(false);
  d.clear_heartbeat();
  const v1::Candidate& p = held.candidates(primary);
  *d.mutable_primary() = p;
  if (secondary == LF_NONE) {
    d.clear_secondary();
  } else {
    *d.mutable_secondary() = held.candidates(secondary);
  }
  // S8: the candidates the device would keep trying to fall back to.
  d.clear_primary_fallback();
  for (const v1::Candidate& c : held.candidates()) {
    if (c.priority() < p.priority()) *d.add_primary_fallback() = c;
  }
  d.clear_secondary_fallback();
  // N2: keep-alives follow the primary they went to.
  if (held.has_keep_alive_target() && held.has_primary() &&
      held.keep_alive_target().address() == held.primary().address() &&
      held.keep_alive_target().port() == held.primary().port()) {
    d.mutable_keep_alive_target()->set_address(p.address());
    d.mutable_keep_alive_target()->set_port(p.port());
  }
  d.clear_next_search_time();
  *d.mutable_generated_at() = ToTimestamp(generated_at);
  char reason[512];
  lf_failover_reason(reason, sizeof(reason), address.c_str(), port, code);
  d.set_reason(reason);
  return d;
}

v1::Decision DeviceControlDecision(const v1::Decision& held,
                                   absl::Duration after,
                                   const ProfileServer& server,
                                   absl::Time generated_at) {
  v1::Decision d;
  d.set_version(held.version());
  d.set_state(v1::DECISION_STATE_DEVICE_CONTROL);
  *d.mutable_candidates() = held.candidates();
  *d.mutable_generated_at() = ToTimestamp(generated_at);
  char reason[512];
  lf_device_control_reason(
      reason, sizeof(reason),
      static_cast<uint64_t>(absl::ToInt64Milliseconds(after)),
      server.server.c_str());
  d.set_reason(reason);
  return d;
}

LocalDecisions::LocalDecisions(v1::ItspProfile profile,
                               absl::Duration device_control_after)
    : profile_(std::move(profile)),
      device_control_after_(device_control_after) {}

void LocalDecisions::ServiceLost(absl::Time now) {
  if (!lost_at_) lost_at_ = now;
}

void LocalDecisions::ServiceBack() {
  lost_at_.reset();
  device_control_ = false;
  failures_ = {};
}

std::optional<v1::Decision> LocalDecisions::OnReport(const v1::Decision& held,
                                                     const std::string& address,
                                                     uint32_t port,
                                                     uint32_t code,
                                                     absl::Time generated_at) {
  if (!lost_at_ || device_control_ ||
      held.state() != v1::DECISION_STATE_ACTIVE || !held.has_primary()) {
    return std::nullopt;
  }
  const std::vector<lf_candidate> view = ViewOf(held);
  const int index = Find(view, address, port);
  if (index == LF_NONE) return std::nullopt;
  int primary = Find(view, held.primary().address(), held.primary().port());
  int secondary = held.has_secondary() ? Find(view, held.secondary().address(),
                                              held.secondary().port())
                                       : LF_NONE;
  // S9: a secondary registration needs redundancy on.
  const bool has_secondary =
      profile_.secondary_registration() && profile_.proxy_server_redundancy();
  const bool registered = code >= 200 && code < 300;
  if (!lf_on_report(&failures_, view.data(), static_cast<int>(view.size()),
                    index, registered ? 1 : 0, has_secondary ? 1 : 0, &primary,
                    &secondary)) {
    return std::nullopt;
  }
  return LocalFailoverDecision(held, primary, secondary, address, port, code,
                               generated_at);
}

std::optional<absl::Time> LocalDecisions::DeviceControlDue() const {
  if (!lost_at_ || device_control_ ||
      device_control_after_ <= absl::ZeroDuration()) {
    return std::nullopt;
  }
  return *lost_at_ + device_control_after_;
}

std::optional<v1::Decision> LocalDecisions::OnTick(
    const std::optional<v1::Decision>& held, absl::Time now,
    absl::Time generated_at) {
  const std::optional<absl::Time> due = DeviceControlDue();
  if (!due || now < *due) return std::nullopt;
  device_control_ = true;  // Due once, held decision or not.
  if (!held) return std::nullopt;
  return DeviceControlDecision(*held, device_control_after_,
                               RedundancyServer(profile_), generated_at);
}

}  // namespace sipresolver::client
