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
// kept as 64-bit hashes (StableHash64, the same in every replica): no device
// identity is stored.
//
// Replicas sharing probing share evidence too: each exports what its own
// agents reported (Export) and takes in what the others' did (SetRemote,
// per source replica, bounded like its own); a tally counts the union, with
// the same rule across replicas (one reporter = agent id and client).
//
// Pure and passive: times are passed in. Not thread-safe (the loop owns it).
#ifndef SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_
#define SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_

#include <cstdint>
#include <map>
#include <string>
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

// A report as replicas share it: the reporter's hashes, the outcome and how
// long ago it was made.
struct SharedReport {
  Reporter reporter;
  bool registered = false;
  absl::Duration age;
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
  // This replica's own reports about `endpoint` made at or after `since`,
  // within the window.
  std::vector<SharedReport> Export(const sip::Endpoint& endpoint,
                                   absl::Time since, absl::Time now) const;
  // What replica `source` last exported about `endpoint`, in place of what
  // it sent before (empty: nothing from it any more). The newest
  // max_reporters() are kept.
  void SetRemote(const sip::Endpoint& endpoint, const std::string& source,
                 const std::vector<SharedReport>& reports, absl::Time now);
  // The endpoint is no longer tracked.
  void Forget(const sip::Endpoint& endpoint) {
    reports_.erase(endpoint);
    remote_.erase(endpoint);
  }

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
  // By endpoint, then source replica; oldest first.
  absl::flat_hash_map<sip::Endpoint, std::map<std::string, std::vector<Report>>>
      remote_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_DEVICE_EVIDENCE_H_
