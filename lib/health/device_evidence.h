// DeviceEvidence: what agents report about registering with one endpoint
// (ReportObservation), kept beside the probes' verdict so that a service
// whose probes are blocked (an ITSP's fail2ban or pike banning the prober, a
// broken egress) does not declare dead a server the devices register with.
//
// Evidence is the latest outcome of each distinct *reporter*: an agent id
// and the client it reported from (server/client_identity.h: a certificate
// identity, else an address). A new report replaces every entry that shares
// either with it, so one agent id from many clients, or many agent ids from
// one client, is one reporter: steering a decision takes `quorum` agents
// from as many clients. Only the newest `max_reporters` are kept
// per endpoint, so memory is bounded by endpoints, never by devices. Ids are
// kept as 64-bit hashes: no device identity is stored.
//
// Pure and passive: times are passed in. Not thread-safe (the loop owns it).
#ifndef SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_
#define SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

struct EvidenceOptions {
  // Distinct reporters whose registrations make an endpoint count as working
  // while its probes fail (and whose failures confirm the probes'). At least
  // 2: one agent alone never steers anyone else's decision.
  int quorum = 3;
  // How long a report counts.
  absl::Duration window = absl::Minutes(10);
};

// Who reported: hashes of the agent id and of the client identity.
struct Reporter {
  uint64_t agent = 0;
  uint64_t client = 0;
  static Reporter Of(absl::string_view agent_id, absl::string_view client);
};

// Distinct reporters whose latest report in the window, made at or after
// `since`, was a success / a failure.
struct DeviceTally {
  int successes = 0;
  int failures = 0;
  bool operator==(const DeviceTally& o) const {
    return successes == o.successes && failures == o.failures;
  }
};

class DeviceEvidence {
 public:
  explicit DeviceEvidence(const EvidenceOptions& options);

  void Record(const sip::Endpoint& endpoint, Reporter reporter, bool registered,
              absl::Time now);
  DeviceTally Tally(const sip::Endpoint& endpoint, absl::Time since,
                    absl::Time now) const;
  // The endpoint is no longer tracked.
  void Forget(const sip::Endpoint& endpoint) { reports_.erase(endpoint); }

  int quorum() const { return options_.quorum; }
  // Reporters remembered per endpoint at most.
  size_t max_reporters() const;

 private:
  struct Report {
    Reporter reporter;
    bool registered;
    absl::Time at;
  };
  const EvidenceOptions options_;
  // Oldest first.
  absl::flat_hash_map<sip::Endpoint, std::vector<Report>> reports_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_
