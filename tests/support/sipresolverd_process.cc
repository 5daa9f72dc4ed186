#include "tests/support/sipresolverd_process.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

// The number after `name` in a log line: name=N (text) or "name":N (JSON).
int PortField(const std::string& line, const std::string& name) {
  for (const std::string& key : {" " + name + "=", "\"" + name + "\":"}) {
    const size_t at = line.find(key);
    if (at == std::string::npos) continue;
    const size_t start = at + key.size();
    const size_t end = line.find_first_not_of("0123456789", start);
    int port = 0;
    if (absl::SimpleAtoi(line.substr(start, end - start), &port)) return port;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SipresolverdProcess>> SipresolverdProcess::Start(
    const std::string& dns_servers,
    const std::vector<std::string>& extra_flags) {
  std::unique_ptr<SipresolverdProcess> d(new SipresolverdProcess());
  // Port 0: the daemon binds ports nobody holds and says which (a port
  // picked here and freed could be taken before the daemon binds it).
  std::vector<std::string> argv = {SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                                   "--metrics_listen=127.0.0.1:0",
                                   absl::StrCat("--dns_servers=", dns_servers)};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  d->argv_ = std::move(argv);
  if (absl::Status s = d->Launch(); !s.ok()) return s;
  // Restarts keep the ports: agents reconnect to the same address.
  d->argv_[1] = absl::StrCat("--listen=127.0.0.1:", d->grpc_port_);
  d->argv_[2] = absl::StrCat("--metrics_listen=127.0.0.1:", d->metrics_port_);
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
  // The ports it bound, from its start-up line (text or JSON log format).
  const std::string output = process_->Output();
  const size_t line = output.find("serving gRPC");
  const std::string serving =
      output.substr(line, output.find('\n', line) - line);
  grpc_port_ = PortField(serving, "port");
  metrics_port_ = PortField(serving, "metrics_port");
  if (grpc_port_ == 0 || metrics_port_ == 0) {
    return absl::InternalError(
        absl::StrCat("no ports in sipresolverd's start-up line: ", serving));
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
