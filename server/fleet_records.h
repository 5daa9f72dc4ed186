// What replicas sharing probing keep in etcd, under --etcd_prefix P:
//   P replicas/<replica>               ""          the live replicas (lease)
//   P wanted/<endpoint key>/<replica>  the domain  who needs an endpoint
//                                                  probed (lease)
//   P health/<endpoint key>            HealthRecord what its last probes found
//   P evidence/<endpoint key>/<replica> reports     what that replica's agents
//                                                  reported while the probes
//                                                  fail (lease)
// Endpoint keys are cluster::EndpointKey ("udp:192.0.2.1:5060"). Records
// are "name=value" lines, values C-escaped; unknown names are ignored, so
// a newer replica may add some.
#ifndef SIPRESOLVER_SERVER_FLEET_RECORDS_H_
#define SIPRESOLVER_SERVER_FLEET_RECORDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/health/health_tracker.h"

namespace sipresolver::server {

// A key under the prefix, taken apart. kind "replicas", "wanted", "health",
// "evidence".
struct FleetKey {
  std::string kind;
  std::string endpoint_key;  // wanted, health, evidence.
  std::string replica;       // replicas, wanted, evidence.
};
std::optional<FleetKey> ParseFleetKey(absl::string_view prefix,
                                      absl::string_view key);
std::string WantedKey(absl::string_view prefix, absl::string_view endpoint_key,
                      absl::string_view replica);
std::string HealthKey(absl::string_view prefix, absl::string_view endpoint_key);
std::string EvidenceKey(absl::string_view prefix,
                        absl::string_view endpoint_key,
                        absl::string_view replica);

// An owner's verdict on an endpoint, as every replica adopts it.
struct HealthRecord {
  std::string origin;  // The replica whose probe it was.
  // When it was found (wall clock): the latest verdict wins, so that one
  // written before an etcd fault never overrides a newer one found during
  // it. InfinitePast when a record does not say.
  absl::Time at = absl::InfinitePast();
  health::SharedHealth health;
};
std::string EncodeHealthRecord(const HealthRecord& record);
// INVALID_ARGUMENT naming what is wrong (a value from etcd is input).
absl::StatusOr<HealthRecord> DecodeHealthRecord(absl::string_view text);

// Device reports as one replica shares them: a line per report, "AGENT
// CLIENT REGISTERED AT" (the reporter's hashes in hex, 1 or 0, Unix time in
// ms: wall clocks, so that a record read later still says how old a report
// is). At most 64 reports.
std::string EncodeReports(const std::vector<health::SharedReport>& reports,
                          absl::Time wall_now);
absl::StatusOr<std::vector<health::SharedReport>> DecodeReports(
    absl::string_view text, absl::Time wall_now);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_FLEET_RECORDS_H_
