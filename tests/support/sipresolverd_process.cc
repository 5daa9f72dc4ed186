#include "tests/support/sipresolverd_process.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {

absl::StatusOr<std::unique_ptr<SipresolverdProcess>> SipresolverdProcess::Start(
    const std::string& dns_servers,
    const std::vector<std::string>& extra_flags) {
  std::unique_ptr<SipresolverdProcess> d(new SipresolverdProcess());
  d->grpc_port_ = PickFreePort();
  d->metrics_port_ = PickFreePort();
  std::vector<std::string> argv = {
      SIPRESOLVERD_PATH, absl::StrCat("--listen=127.0.0.1:", d->grpc_port_),
      absl::StrCat("--metrics_listen=127.0.0.1:", d->metrics_port_),
      absl::StrCat("--dns_servers=", dns_servers)};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  d->argv_ = std::move(argv);
  if (absl::Status s = d->Launch(); !s.ok()) return s;
  d->channel_ = grpc::CreateChannel(d->grpc_address(),
                                    grpc::InsecureChannelCredentials());
  d->stub_ = v1::SipResolver::NewStub(d->channel_);
  return d;
}

absl::Status SipresolverdProcess::Launch() {
  auto process = Subprocess::Start(argv_);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  if (!process_->WaitForOutput("serving gRPC", absl::Seconds(10))) {
    return absl::UnavailableError(
        absl::StrCat("sipresolverd did not start:\n", process_->Output()));
  }
  return absl::OkStatus();
}

void SipresolverdProcess::Kill() { process_.reset(); }  // SIGKILL and reap.

absl::Status SipresolverdProcess::Restart() {
  process_.reset();  // SIGKILL and reap.
  return Launch();
}

std::string SipresolverdProcess::grpc_address() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string SipresolverdProcess::Metrics() const {
  auto page = HttpGet(metrics_port_, "/metrics");
  return page.ok() ? *page : "";
}

}  // namespace sipresolver::testing
