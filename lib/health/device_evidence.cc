#include "lib/health/device_evidence.h"

#include <algorithm>

#include "lib/core/stable_hash.h"

namespace sipresolver::health {

Reporter Reporter::Of(absl::string_view agent_id, absl::string_view client) {
  return Reporter{StableHash64(agent_id), StableHash64(client)};
}

DeviceEvidence::DeviceEvidence(const EvidenceOptions& options)
    : options_(options) {}

// Room for a quorum of successes beside a quorum of failures and some churn;
// more would only let old reports outvote newer ones.
size_t DeviceEvidence::max_reporters() const {
  return std::max<size_t>(16, 4 * static_cast<size_t>(options_.quorum));
}

namespace {

// A reporter's newer report replaces every older one sharing its agent id or
// its client.
template <typename Report>
void Supersede(std::vector<Report>& reports, const Report& newer) {
  reports.erase(
      std::remove_if(reports.begin(), reports.end(),
                     [&](const Report& r) {
                       return r.reporter.agent == newer.reporter.agent ||
                              r.reporter.client == newer.reporter.client;
                     }),
      reports.end());
  reports.push_back(newer);
}

}  // namespace

void DeviceEvidence::Record(const sip::Endpoint& endpoint, Reporter reporter,
                            bool registered, absl::Time now) {
  std::vector<Report>& reports = reports_[endpoint];
  Supersede(reports, Report{reporter, registered, now});
  if (reports.size() > max_reporters()) reports.erase(reports.begin());
}

DeviceTally DeviceEvidence::Tally(const sip::Endpoint& endpoint,
                                  absl::Time since, absl::Time now) const {
  std::vector<Report> reports;
  if (auto it = reports_.find(endpoint); it != reports_.end()) {
    reports = it->second;
  }
  if (auto it = remote_.find(endpoint); it != remote_.end()) {
    // The union, folded in time order under the same rule, so that an
    // agent that reported to two replicas counts once, as its latest.
    for (const auto& [source, theirs] : it->second) {
      reports.insert(reports.end(), theirs.begin(), theirs.end());
    }
    std::stable_sort(
        reports.begin(), reports.end(),
        [](const Report& a, const Report& b) { return a.at < b.at; });
    std::vector<Report> folded;
    for (const Report& r : reports) Supersede(folded, r);
    reports.swap(folded);
  }
  DeviceTally tally;
  const absl::Time from = std::max(since, now - options_.window);
  for (const Report& r : reports) {
    if (r.at < from || r.at > now) continue;
    ++(r.registered ? tally.successes : tally.failures);
  }
  return tally;
}

std::vector<SharedReport> DeviceEvidence::Export(const sip::Endpoint& endpoint,
                                                 absl::Time since,
                                                 absl::Time now) const {
  std::vector<SharedReport> out;
  auto it = reports_.find(endpoint);
  if (it == reports_.end()) return out;
  const absl::Time from = std::max(since, now - options_.window);
  for (const Report& r : it->second) {
    if (r.at < from || r.at > now) continue;
    out.push_back(SharedReport{r.reporter, r.registered, now - r.at});
  }
  return out;
}

void DeviceEvidence::SetRemote(const sip::Endpoint& endpoint,
                               const std::string& source,
                               const std::vector<SharedReport>& reports,
                               absl::Time now) {
  if (reports.empty()) {
    auto it = remote_.find(endpoint);
    if (it == remote_.end()) return;
    it->second.erase(source);
    if (it->second.empty()) remote_.erase(it);
    return;
  }
  std::vector<Report> theirs;
  theirs.reserve(reports.size());
  for (const SharedReport& r : reports) {
    theirs.push_back(Report{r.reporter, r.registered, now - r.age});
  }
  std::stable_sort(
      theirs.begin(), theirs.end(),
      [](const Report& a, const Report& b) { return a.at < b.at; });
  if (theirs.size() > max_reporters()) {
    theirs.erase(theirs.begin(),
                 theirs.end() - static_cast<std::ptrdiff_t>(max_reporters()));
  }
  remote_[endpoint][source] = std::move(theirs);
}

}  // namespace sipresolver::health
