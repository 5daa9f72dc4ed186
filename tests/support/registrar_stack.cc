#include "tests/support/registrar_stack.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::testing {
namespace {

absl::Status WithContext(const absl::Status& status, absl::string_view what) {
  return absl::Status(status.code(),
                      absl::StrCat(what, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistrarStack>> RegistrarStack::Start(
    const RegistrarStackOptions& options) {
  std::unique_ptr<RegistrarStack> stack(new RegistrarStack());
  for (int i = 0; i < options.registrars; ++i) {
    auto registrar = KamailioServer::Start();
    if (!registrar.ok()) {
      return WithContext(registrar.status(), absl::StrCat("registrar ", i));
    }
    stack->registrars_.push_back(*std::move(registrar));
  }

  DnsZone& zone = stack->zone_;
  zone.ttl = options.dns_ttl;
  zone.hosts = {{options.srv_target, {"127.0.0.1"}}};
  for (int i = 0; i < options.registrars; ++i) {
    zone.srv.push_back({kDomain, options.srv_target, stack->registrar(i).port(),
                        static_cast<uint16_t>(10 * (i + 1)), 10});
  }
  auto dns = DnsmasqServer::Start(zone);
  if (!dns.ok()) return WithContext(dns.status(), "dnsmasq");
  stack->dns_ = *std::move(dns);

  std::vector<std::string> flags = options.probe_flags;
  flags.insert(flags.end(), options.extra_flags.begin(),
               options.extra_flags.end());
  auto daemon = SipresolverdProcess::Start(stack->dns_->address(), flags);
  if (!daemon.ok()) return WithContext(daemon.status(), "sipresolverd");
  stack->daemon_ = *std::move(daemon);
  return stack;
}

}  // namespace sipresolver::testing
