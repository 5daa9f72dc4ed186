// SipresolverdProcess: the real sipresolverd binary on loopback ports,
// pointed at a test DNS server, with a gRPC stub to it.
#ifndef SIPRESOLVER_TESTS_SUPPORT_SIPRESOLVERD_PROCESS_H_
#define SIPRESOLVER_TESTS_SUPPORT_SIPRESOLVERD_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "sipresolver/v1/sipresolver.grpc.pb.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {

class SipresolverdProcess {
 public:
  // Starts sipresolverd with --dns_servers=`dns_servers` plus `extra_flags`
  // and waits (10 s at most) until it logs that it serves.
  static absl::StatusOr<std::unique_ptr<SipresolverdProcess>> Start(
      const std::string& dns_servers,
      const std::vector<std::string>& extra_flags = {});

  // Kills the process (SIGKILL) if it runs and starts it again with the same
  // flags and ports.
  absl::Status Restart();
  // Kills the process (SIGKILL: no goodbye to its streams) and reaps it;
  // Restart() starts it again. process() must not be used meanwhile.
  void Kill();
  bool running() const { return process_ != nullptr && process_->running(); }

  std::string grpc_address() const;
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  Subprocess& process() { return *process_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::SipResolver::Stub& stub() { return *stub_; }
  // GET /metrics.
  std::string Metrics() const;

 private:
  SipresolverdProcess() = default;
  absl::Status Launch();
  std::vector<std::string> argv_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<Subprocess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SipResolver::Stub> stub_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_SIPRESOLVERD_PROCESS_H_
