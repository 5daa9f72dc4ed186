// PanicDetector: does the service's own probe path look broken? Envoy's
// panic threshold: fewer than `threshold` of the settled (healthy or
// unhealthy) endpoints healthy by probes, with the unhealthy ones spread
// over at least `min_domains` names (an IP literal, domain "", is a name of
// its own: its address). One ITSP's outage never looks like a broken path.
//
// Counts are kept as endpoints change, O(log n) per change (times the
// endpoint's few names), so a change never rescans every endpoint.
// Loop thread only.
#ifndef SIPRESOLVER_LIB_HEALTH_PANIC_DETECTOR_H_
#define SIPRESOLVER_LIB_HEALTH_PANIC_DETECTOR_H_

#include <map>
#include <set>
#include <string>

#include "lib/health/health_state.h"
#include "lib/sip/prober.h"

namespace sipresolver::health {

class PanicDetector {
 public:
  // threshold 0 turns it off.
  PanicDetector(double threshold, int min_domains)
      : threshold_(threshold), min_domains_(min_domains) {}

  // Each adds `endpoint` (UNKNOWN, no names) if it is new.
  void SetState(const sip::Endpoint& endpoint, HealthState state);
  void AddDomain(const sip::Endpoint& endpoint, const std::string& domain);
  void Remove(const sip::Endpoint& endpoint);

  bool suspect() const {
    return healthy_ratio() < threshold_ && failing_names() >= min_domains_;
  }
  // Share of the settled endpoints that are healthy (1 if none).
  double healthy_ratio() const;
  int healthy() const { return healthy_; }
  int unhealthy() const { return unhealthy_; }
  // Names with at least one unhealthy endpoint.
  int failing_names() const {
    return static_cast<int>(failing_per_name_.size());
  }

 private:
  struct Entry {
    HealthState state = HealthState::kUnknown;
    std::set<std::string> names;  // Domains; the address for "".
  };
  // Adds `sign` (+1/-1) of `e` to the counts.
  void Count(const Entry& e, int sign);
  void CountName(const std::string& name, int sign);

  const double threshold_;
  const int min_domains_;
  std::map<sip::Endpoint, Entry> endpoints_;
  int healthy_ = 0;
  int unhealthy_ = 0;
  // Unhealthy endpoints per name; names with none are erased, so the size
  // is the number of failing names.
  std::map<std::string, int> failing_per_name_;
};

}  // namespace sipresolver::health

#endif  // SIPRESOLVER_LIB_HEALTH_PANIC_DETECTOR_H_
