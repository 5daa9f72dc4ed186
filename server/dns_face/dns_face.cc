#include "server/dns_face/dns_face.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/api_convert.h"
#include "server/decision_convert.h"
#include "server/decision_sink.h"
#include "server/log.h"

namespace sipresolver::server::dns_face {
namespace {

v1::HealthState HealthToProto(health::HealthState state) {
  switch (state) {
    case health::HealthState::kHealthy:
      return v1::HEALTH_STATE_HEALTHY;
    case health::HealthState::kUnhealthy:
      return v1::HEALTH_STATE_UNHEALTHY;
    default:
      return v1::HEALTH_STATE_UNKNOWN;
  }
}

absl::string_view OutcomeName(LookupOutcome outcome) {
  switch (outcome) {
    case LookupOutcome::kAnswered:
      return "answered";
    case LookupOutcome::kNoData:
      return "nodata";
    case LookupOutcome::kNoSuchName:
      return "nxdomain";
    case LookupOutcome::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

}  // namespace

// One name's watch: hands each decision to the records; heartbeats carry
// nothing new.
class DnsFace::NameSink : public DecisionSink {
 public:
  NameSink(DnsFace& face, size_t zone, size_t name)
      : face_(face), zone_(zone), name_(name) {}

  size_t zone() const { return zone_; }
  size_t name() const { return name_; }

  bool Offer(v1::Decision decision) override {
    face_.Offer(zone_, name_, std::move(decision));
    return true;
  }
  bool OfferHeartbeat(v1::Decision) override { return true; }
  void End(const absl::Status& status, bool reconnect_now) override {
    // Called from inside the hub: leave it afterwards.
    face_.loop_.Post([face = &face_, self = this, status, reconnect_now] {
      face->Ended(self, status, reconnect_now);
    });
  }
  bool CancelIfStalled() override { return true; }

 private:
  DnsFace& face_;
  const size_t zone_;
  const size_t name_;
};

absl::StatusOr<std::unique_ptr<DnsFace>> DnsFace::Start(
    const FaceOptions& options, EventLoop& loop, DecisionHub& hub,
    const health::HealthTracker& health, Metrics& metrics) {
  if (options.socket_path.empty() != options.config_file.empty()) {
    return absl::InvalidArgumentError(
        "dns_face_socket and dns_face_config: set both or neither");
  }
  auto config = LoadFaceConfig(options.config_file);
  if (!config.ok()) return config.status();
  std::unique_ptr<DnsFace> face(
      new DnsFace(options, *std::move(config), loop, hub, health, metrics));
  absl::Status watched;
  loop.RunSync([&] {
    hub.SetHealthObserver(
        [records = &face->records_](const health::EndpointStatus& status) {
          records->SetHealth(status.endpoint.address, status.endpoint.port,
                             server::ToProto(status.endpoint.transport),
                             HealthToProto(status.decision_state));
        });
    const auto& zones = face->records_.config().zones;
    for (size_t z = 0; z < zones.size() && watched.ok(); ++z) {
      for (size_t n = 0; n < zones[z].names.size() && watched.ok(); ++n) {
        watched = face->Watch(z, n);
      }
    }
  });
  if (!watched.ok()) return watched;
  auto socket = LineSocket::Start(
      options.socket_path, [backend = &face->backend_](absl::string_view line) {
        return backend->Handle(line);
      });
  if (!socket.ok()) return socket.status();
  face->socket_ = *std::move(socket);
  size_t names = 0;
  for (const FaceZone& zone : face->records_.config().zones) {
    names += zone.names.size();
  }
  Log("serving the DNS face to PowerDNS",
      {{"dns_face_socket", options.socket_path},
       {"zones", static_cast<int>(face->records_.config().zones.size())},
       {"names", static_cast<int>(names)}});
  return face;
}

DnsFace::DnsFace(const FaceOptions& options, FaceConfig config, EventLoop& loop,
                 DecisionHub& hub, const health::HealthTracker& health,
                 Metrics& metrics)
    : options_(options),
      loop_(loop),
      hub_(hub),
      health_(health),
      metrics_(metrics),
      records_(std::move(config)),
      backend_(records_, [this](LookupOutcome outcome) {
        metrics_.OnDnsFaceLookup(OutcomeName(outcome));
      }) {
  for (const FaceZone& zone : records_.config().zones) {
    retries_.emplace_back(zone.names.size());
  }
}

DnsFace::~DnsFace() {
  socket_.reset();  // No lookups from here on.
  loop_.RunSync([this] {
    stopping_ = true;
    hub_.SetHealthObserver(nullptr);
    retries_.clear();
    for (const auto& sink : sinks_) hub_.Unsubscribe(sink.get());
  });
  // Ended() calls already posted see stopping_ and touch nothing; the
  // sinks must outlive them.
  loop_.RunSync([this] { sinks_.clear(); });
}

void DnsFace::Offer(size_t zone, size_t name, v1::Decision decision) {
  Transport transport = Transport::kUdp;
  if (auto t = FromProto(records_.config()
                             .zones[zone]
                             .names[name]
                             .profile.proxy_server_transport(),
                         "");
      t.ok()) {
    transport = *t;
  }
  for (v1::Candidate& c : *decision.mutable_candidates()) {
    const std::optional<health::EndpointStatus> status =
        health_.Get({c.address(), static_cast<uint16_t>(c.port()), transport});
    if (status)
      c.mutable_health()->set_state(HealthToProto(status->decision_state));
  }
  records_.SetDecision(zone, name, std::move(decision));
}

absl::Status DnsFace::Watch(size_t zone, size_t name) {
  const FaceName& face = records_.config().zones[zone].names[name];
  v1::WatchDecisionRequest request;
  *request.mutable_profile() = face.profile;
  request.set_agent_id(absl::StrCat("dns-face:", face.fqdn).substr(0, 128));
  request.set_spread_mode(v1::SPREAD_MODE_DEVICE_ORDER);
  absl::StatusOr<WatchRequest> watch = ToWatchRequest(request);
  if (!watch.ok()) return watch.status();  // Checked when loaded.
  auto sink = std::make_shared<NameSink>(*this, zone, name);
  if (absl::Status s = hub_.Subscribe(sink, *watch, "dns-face"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("dns_face_config: ", face.fqdn,
                                               ": ", s.message()));
  }
  sinks_.push_back(std::move(sink));
  return absl::OkStatus();
}

void DnsFace::Ended(NameSink* sink, const absl::Status& status, bool shutdown) {
  if (stopping_ || shutdown) return;
  const auto it = std::find_if(sinks_.begin(), sinks_.end(),
                               [&](const auto& s) { return s.get() == sink; });
  if (it == sinks_.end()) return;
  hub_.Unsubscribe(sink);
  const size_t zone = sink->zone(), name = sink->name();
  sinks_.erase(it);
  Retry(zone, name, status);
}

void DnsFace::Retry(size_t zone, size_t name, const absl::Status& status) {
  Log(Severity::kWarning,
      "DNS face: a name's watch ended; its last answer stays until it is "
      "watched again",
      {{"name", records_.config().zones[zone].names[name].fqdn},
       {"error", std::string(status.message())},
       {"retry_in", absl::FormatDuration(options_.retry)}});
  retries_[zone][name] = loop_.After(options_.retry, [this, zone, name] {
    if (absl::Status s = Watch(zone, name); !s.ok()) Retry(zone, name, s);
  });
}

}  // namespace sipresolver::server::dns_face
