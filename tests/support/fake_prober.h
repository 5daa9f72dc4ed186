// FakeProber: a Prober for unit tests. Results are scripted per endpoint
// (default: a 200 OK); probes are answered when the test calls Complete(), so
// timing is entirely in the test's hands. Records every request.
#ifndef SIPRESOLVER_TESTS_SUPPORT_FAKE_PROBER_H_
#define SIPRESOLVER_TESTS_SUPPORT_FAKE_PROBER_H_

#include <cstddef>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "lib/sip/prober.h"

namespace sipresolver::testing {

inline sip::ProbeResult Reply(int code) {
  sip::ProbeResult r;
  r.outcome = sip::ProbeResult::Outcome::kResponse;
  r.status_code = code;
  r.latency = absl::Milliseconds(10);
  return r;
}

inline sip::ProbeResult Timeout() {
  sip::ProbeResult r;
  r.outcome = sip::ProbeResult::Outcome::kTimeout;
  r.error = "no final response";
  return r;
}

class FakeProber : public sip::Prober {
 public:
  void Set(const sip::Endpoint& e, sip::ProbeResult result) {
    results_.insert_or_assign(e, std::move(result));
  }
  void Probe(const sip::ProbeRequest& request, Callback done) override {
    requests_.push_back(request);
    pending_.emplace_back(request.endpoint, std::move(done));
  }
  // Answers every pending probe with its endpoint's scripted result.
  int Complete() {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [endpoint, done] : pending) {
      auto it = results_.find(endpoint);
      done(it == results_.end() ? Reply(200) : it->second);
    }
    return static_cast<int>(pending.size());
  }
  // Answers the i-th oldest pending probe with `result`; the others wait
  // (a lost request or answer is a probe never completed).
  void CompleteAt(size_t i, sip::ProbeResult result) {
    auto done = std::move(pending_.at(i).second);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    done(std::move(result));
  }
  size_t pending() const { return pending_.size(); }
  const std::vector<sip::ProbeRequest>& requests() const { return requests_; }

 private:
  std::map<sip::Endpoint, sip::ProbeResult> results_;
  std::deque<std::pair<sip::Endpoint, Callback>> pending_;
  std::vector<sip::ProbeRequest> requests_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_FAKE_PROBER_H_
