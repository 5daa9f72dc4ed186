// DecisionWatcher: a raw WatchDecision stream for tests, read by a thread of
// its own into a queue, with bounded waits for a decision that matches.
#ifndef SIPRESOLVER_TESTS_SUPPORT_DECISION_WATCHER_H_
#define SIPRESOLVER_TESTS_SUPPORT_DECISION_WATCHER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"
#include "tests/support/eventually.h"

namespace sipresolver::testing {

// A watch of `server` (with redundancy unless told otherwise) by `agent`:
// the service probes what a watcher needs, so tests that want an endpoint
// probed watch it.
v1::WatchDecisionRequest WatchRequest(const std::string& agent,
                                      const std::string& server,
                                      bool redundancy = true);

class DecisionWatcher {
 public:
  DecisionWatcher(v1::SipResolver::Stub& stub,
                  const v1::WatchDecisionRequest& request);
  ~DecisionWatcher();  // Cancels the call and joins the reader.

  // The first decision received from now on (or already queued) that
  // matches, waiting at most `timeout`. Non-matching ones are consumed.
  std::optional<v1::Decision> WaitFor(
      const std::function<bool(const v1::Decision&)>& match,
      absl::Duration timeout = kEventuallyTimeout);
  // Every non-heartbeat decision received so far.
  std::vector<v1::Decision> Received();
  // The call's final status, once it ended (waits at most `timeout`).
  std::optional<grpc::Status> WaitForEnd(
      absl::Duration timeout = kEventuallyTimeout);

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Decision>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::Decision> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Decision> all_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_DECISION_WATCHER_H_
