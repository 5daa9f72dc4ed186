// DnsFace: the service's view as DNS, for phones that cannot run an agent
// (docs/dns-face.md). Each provisioned name of the configuration watches its
// ITSP profile through the decision hub as one agent would (in the device's
// own order, no spreading: every phone gets the same answer), and PowerDNS,
// with this as its remote backend over a unix socket, answers the names
// from the latest decisions (FaceRecords), whose candidates it gives the
// health decisions use, kept current through the hub.
//
// A watch that ends (a server of the profile may not be probed, a limit) is
// logged and tried again after `retry`; the name keeps its last answer
// meanwhile. At shutdown the answers stay until the face is destroyed.
#ifndef SIPRESOLVER_SERVER_DNS_FACE_DNS_FACE_H_
#define SIPRESOLVER_SERVER_DNS_FACE_DNS_FACE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/core/event_loop.h"
#include "server/decision_hub.h"
#include "server/dns_face/face_records.h"
#include "server/dns_face/line_socket.h"
#include "server/dns_face/remote_backend.h"
#include "server/metrics.h"

namespace sipresolver::server::dns_face {

struct FaceOptions {
  std::string socket_path;  // --dns_face_socket
  std::string config_file;  // --dns_face_config
  absl::Duration retry = absl::Seconds(5);
};

class DnsFace {
 public:
  // Reads the configuration, starts every name's watch (errors name the
  // name), then listens. `loop` must run; call from another thread.
  static absl::StatusOr<std::unique_ptr<DnsFace>> Start(
      const FaceOptions& options, EventLoop& loop, DecisionHub& hub,
      const health::HealthTracker& health, Metrics& metrics);
  // Stops listening and ends the watches; not on the loop's thread.
  ~DnsFace();

 private:
  class NameSink;
  DnsFace(const FaceOptions& options, FaceConfig config, EventLoop& loop,
          DecisionHub& hub, const health::HealthTracker& health,
          Metrics& metrics);
  // On the loop: the decision's candidates with their health.
  void Offer(size_t zone, size_t name, v1::Decision decision);
  // On the loop.
  absl::Status Watch(size_t zone, size_t name);
  void Ended(NameSink* sink, const absl::Status& status, bool shutdown);
  void Retry(size_t zone, size_t name, const absl::Status& status);

  const FaceOptions options_;
  EventLoop& loop_;
  DecisionHub& hub_;
  const health::HealthTracker& health_;
  Metrics& metrics_;
  FaceRecords records_;
  RemoteBackend backend_;
  std::unique_ptr<LineSocket> socket_;
  // Loop thread only: the watching sinks, and the retries of ended ones
  // ([zone][name]).
  std::vector<std::shared_ptr<NameSink>> sinks_;
  std::vector<std::vector<std::unique_ptr<Timer>>> retries_;
  bool stopping_ = false;
};

}  // namespace sipresolver::server::dns_face

#endif  // SIPRESOLVER_SERVER_DNS_FACE_DNS_FACE_H_
