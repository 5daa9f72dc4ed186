#include "lib/health/device_evidence.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace sipresolver::health {

Reporter Reporter::Of(absl::string_view agent_id, absl::string_view client) {
  return Reporter{absl::Hash<absl::string_view>{}(agent_id),
                  absl::Hash<absl::string_view>{}(client)};
}

DeviceEvidence::DeviceEvidence(const EvidenceOptions& options)
    : options_(options) {}

// Room for a quorum of successes beside a quorum of failures and some churn;
// more would only let old reports outvote newer ones.
size_t DeviceEvidence::max_reporters() const {
  return std::max<size_t>(16, 4 * static_cast<size_t>(options_.quorum));
}

void DeviceEvidence::Record(const sip::Endpoint& endpoint, Reporter reporter,
                            bool registered, absl::Time now) {
  std::vector<Report>& reports = reports_[endpoint];
  reports.erase(std::remove_if(reports.begin(), reports.end(),
                               [&](const Report& r) {
                                 return r.reporter.agent == reporter.agent ||
                                        r.reporter.client == reporter.client;
                               }),
                reports.end());
  reports.push_back(Report{reporter, registered, now});
  if (reports.size() > max_reporters()) reports.erase(reports.begin());
}

DeviceTally DeviceEvidence::Tally(const sip::Endpoint& endpoint,
                                  absl::Time since, absl::Time now) const {
  DeviceTally tally;
  auto it = reports_.find(endpoint);
  if (it == reports_.end()) return tally;
  const absl::Time from = std::max(since, now - options_.window);
  for (const Report& r : it->second) {
    if (r.at < from || r.at > now) continue;
    ++(r.registered ? tally.successes : tally.failures);
  }
  return tally;
}

}  // namespace sipresolver::health
