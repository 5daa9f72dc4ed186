// FaceRecords: the DNS records the face publishes, made on demand from the
// latest decision of each provisioned name. Decisions arrive on the event
// loop (SetDecision); PowerDNS's lookups are answered on the backend's
// thread from what is there, never waiting for DNS or probes: PowerDNS turns
// a slow backend into SERVFAIL.
//
// What a name publishes (docs/dns-face.md):
//  - Servers ranked as the decision uses them: when it is ACTIVE and
//    confirmed (probes or device reports), the primary, the secondary, the
//    other candidates whose health is HEALTHY (kept current by SetHealth:
//    a decision does not change for every candidate's health), then the
//    rest; otherwise (fail static) every candidate in the device's order. Never
//    an empty answer while any candidate is known; before that, lookups fail
//    (SERVFAIL: "try again") rather than deny the name.
//  - SRV at the profile's service name, priorities 10, 20, ... in rank order
//    (weight 0: nothing to choose), targets "v4-192-0-2-1.<name>" /
//    "v6-<32 hex digits>.<name>" answered with their address.
//  - With "address", A/AAAA at the name itself, in rank order. Otherwise
//    the name (and every name between it and the zone) is an empty
//    non-terminal: NODATA, so a phone that asks A first goes on to SRV.
//  - SOA (and NS when configured) at the apex. Every TTL is the zone's.
// Thread-safe.
#ifndef SIPRESOLVER_SERVER_DNS_FACE_FACE_RECORDS_H_
#define SIPRESOLVER_SERVER_DNS_FACE_FACE_RECORDS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/dns_face/face_config.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server::dns_face {

// One record as the remote backend returns it.
struct Record {
  std::string qname;
  std::string qtype;  // "SRV", "A", "AAAA", "SOA", "NS", "ENT".
  std::string content;
  uint32_t ttl = 0;

  bool operator==(const Record& o) const {
    return qname == o.qname && qtype == o.qtype && content == o.content &&
           ttl == o.ttl;
  }
};

// The candidates a decision publishes, best first, one per endpoint; the
// candidates' health as set in `decision`.
std::vector<const v1::Candidate*> RankForDns(const v1::Decision& decision);

// The label an address's target name starts with; "" for a non-IP text.
std::string TargetLabel(absl::string_view address);

class FaceRecords {
 public:
  explicit FaceRecords(FaceConfig config);

  const FaceConfig& config() const { return config_; }

  // The latest decision of config().zones[zone].names[name], its
  // candidates' health filled in (ToDecision leaves it out).
  void SetDecision(size_t zone, size_t name, v1::Decision decision);
  // An endpoint's health changed (the state decisions use): every name
  // that lists it ranks again.
  void SetHealth(absl::string_view address, uint32_t port,
                 v1::Transport transport, v1::HealthState state);

  // The records of `qname` (any case, trailing dot optional) of `qtype`
  // ("ANY": every type, with "ENT" for an empty non-terminal). NOT_FOUND
  // when no such name exists in the zones (NXDOMAIN); UNAVAILABLE while a
  // name's servers are not known yet. OK and empty: the name exists but has
  // nothing of that type.
  absl::StatusOr<std::vector<Record>> Lookup(absl::string_view qname,
                                             absl::string_view qtype) const;

 private:
  struct Published;
  struct Name {
    v1::Decision decision;  // The latest with servers.
    // Its ranked servers; null before a decision with servers.
    std::shared_ptr<const Published> published;
  };
  static std::shared_ptr<const Published> Publish(const v1::Decision& d);
  absl::StatusOr<std::vector<Record>> RecordsOf(const std::string& qname) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const FaceConfig config_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<Name>> names_ ABSL_GUARDED_BY(mu_);  // [zone][name]
};

}  // namespace sipresolver::server::dns_face

#endif  // SIPRESOLVER_SERVER_DNS_FACE_FACE_RECORDS_H_
