// RegistrarStack: the set-up the end-to-end tests share. N real Kamailio
// registrars (kamailio_server.h), a dnsmasq zone that finds them through SRV
// (dnsmasq_server.h), and the real sipresolverd resolving through it
// (sipresolverd_process.h), started in that order and stopped in reverse.
//
// The zone: a host record `srv_target` -> 127.0.0.1 and, for registrar i,
// the SRV record "itsp.test -> srv_target:PORT_i", priority 10 * (i + 1)
// (10, 20, 30, ...), weight 10; TTL `dns_ttl`.
//
// Thread-compatible. Start it on the test's own thread (the servers tie
// their lifetime to the creating thread).
#ifndef SIPRESOLVER_TESTS_SUPPORT_REGISTRAR_STACK_H_
#define SIPRESOLVER_TESTS_SUPPORT_REGISTRAR_STACK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/kamailio_server.h"
#include "tests/support/sipresolverd_process.h"

namespace sipresolver::testing {

struct RegistrarStackOptions {
  int registrars = 1;  // Each a default KamailioConfig (401 to REGISTER).
  std::string srv_target = "pbx.test";
  uint32_t dns_ttl = 60;  // DnsZone::ttl.
  // sipresolverd flags: `probe_flags` then `extra_flags`. The default probes
  // the loopback registrars fast enough for health changes within seconds,
  // with a timeout a busy machine's registrar still meets: the RTO floor
  // raised to it, since on loopback the floor is what decides a miss.
  std::vector<std::string> probe_flags = {
      "--probe_allow=127.0.0.1/32", "--probe_interval=200ms",
      "--probe_edge_interval=100ms", "--probe_timeout=1s",
      "--probe_min_rto=1s"};
  std::vector<std::string> extra_flags;
};

class RegistrarStack {
 public:
  // The name the SRV records are published under.
  static constexpr char kDomain[] = "itsp.test";

  // Starts everything; the error names the part that failed.
  static absl::StatusOr<std::unique_ptr<RegistrarStack>> Start(
      const RegistrarStackOptions& options = {});

  RegistrarStack(const RegistrarStack&) = delete;
  RegistrarStack& operator=(const RegistrarStack&) = delete;

  // 0 <= i < RegistrarStackOptions::registrars; registrar i has SRV
  // priority 10 * (i + 1).
  KamailioServer& registrar(int i) const { return *registrars_.at(i); }
  DnsmasqServer& dns() const { return *dns_; }
  // The zone dns() serves, e.g. to Restart() it with a changed copy.
  const DnsZone& zone() const { return zone_; }
  SipresolverdProcess& daemon() const { return *daemon_; }

 private:
  RegistrarStack() = default;

  // Declared so that the daemon stops first and the registrars last.
  std::vector<std::unique_ptr<KamailioServer>> registrars_;
  DnsZone zone_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<SipresolverdProcess> daemon_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_REGISTRAR_STACK_H_
