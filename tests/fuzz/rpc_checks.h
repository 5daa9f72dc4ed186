// Validation of RPC requests as the server does it (server/api_convert.h,
// server/decision_convert.h), plus what a fuzz target checks about a request
// that passed: every documented bound holds, and the engine functions that run
// on a validated request (ProfileKey, TargetOf, building the probe's REGISTER
// for each configured server) accept it. Shared by the wire-format targets
// (rpc_resolve, rpc_watch) and the structure-aware one (rpc_fields).
#ifndef SIPRESOLVER_TESTS_FUZZ_RPC_CHECKS_H_
#define SIPRESOLVER_TESTS_FUZZ_RPC_CHECKS_H_

#include <string>

#include "absl/strings/ascii.h"
#include "lib/decision/profile.h"
#include "lib/dns/domain_name.h"
#include "lib/sip/message.h"
#include "server/api_convert.h"
#include "server/decision_convert.h"
#include "tests/fuzz/fuzz_check.h"

namespace sipresolver::fuzz {

// A validated server name is an IP literal or a normalised domain name, and
// a REGISTER to it can be built (no character of it reaches a header line
// that BuildRequest would refuse).
inline void CheckServerName(const std::string& server, bool may_be_empty) {
  if (server.empty()) {
    FUZZ_CHECK(may_be_empty);
    return;
  }
  const bool literal = dns::ParseIpLiteral(server).has_value();
  FUZZ_CHECK(literal || dns::NormalizeDomainName(server).ok());
  sip::RequestParams p;
  p.method = "REGISTER";
  p.domain = decision::CanonicalServer(server);
  p.transport = "UDP";
  p.local_host = "192.0.2.10";
  p.local_port = 5060;
  p.user = "probe1";
  p.call_id = "a84b4c76e66710@sipresolver";
  p.from_tag = "1928301774";
  p.branch = "z9hG4bK776asdhds";
  FUZZ_CHECK(sip::BuildRequest(p).ok());
}

inline void CheckResolveRequest(const v1::ResolveRequest& request) {
  absl::StatusOr<dns::ServerSpec> spec = server::ToServerSpec(request);
  if (!spec.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(spec.status()));
    FUZZ_CHECK(!spec.status().message().empty());
    return;
  }
  FUZZ_CHECK(spec->port <= 65535);
  FUZZ_CHECK(spec->server == request.server());
  CheckServerName(spec->server, /*may_be_empty=*/false);
  // S5: redundancy needs a domain name.
  if (spec->redundancy)
    FUZZ_CHECK(!dns::ParseIpLiteral(spec->server).has_value());
}

inline void CheckWatchRequest(const v1::WatchDecisionRequest& request) {
  absl::StatusOr<server::WatchRequest> watch = server::ToWatchRequest(request);
  if (!watch.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(watch.status()));
    FUZZ_CHECK(!watch.status().message().empty());
    return;
  }
  const std::string& agent = watch->agent_id;
  FUZZ_CHECK(!agent.empty() && agent.size() <= server::kMaxAgentIdLength);
  for (char c : agent)
    FUZZ_CHECK(absl::ascii_isgraph(static_cast<unsigned char>(c)));

  const decision::Profile& p = watch->profile;
  FUZZ_CHECK(decision::ValidateProfile(p).ok());
  for (uint32_t port : {p.proxy_server_port, p.registrar_server_port,
                        p.outbound_proxy_port, p.keep_alive_port}) {
    FUZZ_CHECK(port <= 65535);
  }
  for (absl::Duration d : {p.check_primary_fallback_interval,
                           p.check_secondary_fallback_interval}) {
    FUZZ_CHECK(d >= decision::kMinCheckInterval &&
               d <= decision::kMaxCheckInterval);
  }
  CheckServerName(p.proxy_server, /*may_be_empty=*/false);
  CheckServerName(p.registrar_server, true);
  CheckServerName(p.outbound_proxy, true);
  CheckServerName(p.keep_alive_server, true);

  // What the server does next with a valid profile.
  const decision::RedundancyTarget target = decision::TargetOf(p);
  CheckServerName(target.server, false);
  FUZZ_CHECK(target.port <= 65535);
  (void)decision::RedundancyApplies(p);
  const std::string key = decision::ProfileKey(p);
  FUZZ_CHECK(!key.empty());
  // Same profile, same key (one shared watcher).
  FUZZ_CHECK(decision::ProfileKey(p) == key);
}

}  // namespace sipresolver::fuzz

#endif  // SIPRESOLVER_TESTS_FUZZ_RPC_CHECKS_H_
