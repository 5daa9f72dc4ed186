#include "lib/health/panic_detector.h"

namespace sipresolver::health {

void PanicDetector::SetState(const sip::Endpoint& endpoint, HealthState state) {
  Entry& e = endpoints_[endpoint];
  Count(e, -1);
  e.state = state;
  Count(e, +1);
}

void PanicDetector::AddDomain(const sip::Endpoint& endpoint,
                              const std::string& domain) {
  Entry& e = endpoints_[endpoint];
  const std::string& name = domain.empty() ? endpoint.address : domain;
  if (e.names.insert(name).second && e.state == HealthState::kUnhealthy) {
    CountName(name, +1);
  }
}

void PanicDetector::Remove(const sip::Endpoint& endpoint) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return;
  Count(it->second, -1);
  endpoints_.erase(it);
}

double PanicDetector::healthy_ratio() const {
  const int settled = healthy_ + unhealthy_;
  return settled == 0 ? 1.0 : static_cast<double>(healthy_) / settled;
}

void PanicDetector::Count(const Entry& e, int sign) {
  if (e.state == HealthState::kHealthy) healthy_ += sign;
  if (e.state != HealthState::kUnhealthy) return;
  unhealthy_ += sign;
  for (const std::string& name : e.names) CountName(name, sign);
}

void PanicDetector::CountName(const std::string& name, int sign) {
  auto it = failing_per_name_.emplace(name, 0).first;
  it->second += sign;
  if (it->second == 0) failing_per_name_.erase(it);
}

}  // namespace sipresolver::health
