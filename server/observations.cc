#include "server/observations.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/dns/domain_name.h"
#include "server/decision_convert.h"

namespace sipresolver::server {
namespace {

absl::Status CheckAddress(const std::string& address, uint32_t port,
                          absl::string_view field, bool optional) {
  if (optional && address.empty() && port == 0) return absl::OkStatus();
  if (!dns::ParseIpLiteral(address)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".address: must be an IP address"));
  }
  if (port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".port: must be 1-65535"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateObservation(const v1::ReportObservationRequest& r) {
  if (absl::Status s = ValidateAgentId(r.agent_id()); !s.ok()) return s;
  if (r.has_mapped_address()) {
    const v1::MappedAddress& m = r.mapped_address();
    if (absl::Status s =
            CheckAddress(m.address(), m.port(), "mapped_address", false);
        !s.ok()) {
      return s;
    }
    if (m.local_address().empty() != (m.local_port() == 0)) {
      return absl::InvalidArgumentError(
          "mapped_address.local_address: give both local_address and "
          "local_port, or neither");
    }
    if (absl::Status s = CheckAddress(m.local_address(), m.local_port(),
                                      "mapped_address.local", true);
        !s.ok()) {
      return s;
    }
    if (m.method() != v1::MAPPING_METHOD_VIA &&
        m.method() != v1::MAPPING_METHOD_STUN) {
      return absl::InvalidArgumentError(
          "mapped_address.method: must be VIA or STUN");
    }
  }
  if (r.registrations_size() > kMaxReportedRegistrations) {
    return absl::InvalidArgumentError(absl::StrCat(
        "registrations: at most ", kMaxReportedRegistrations, " per report"));
  }
  for (int i = 0; i < r.registrations_size(); ++i) {
    const v1::RegistrationOutcome& o = r.registrations(i);
    const std::string field = absl::StrCat("registrations[", i, "]");
    if (absl::Status s = CheckAddress(o.server().address(), o.server().port(),
                                      field + ".server", false);
        !s.ok()) {
      return s;
    }
    if (!v1::Transport_IsValid(o.server().transport())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".server.transport: unknown value"));
    }
    if (o.status_code() != 0 &&
        (o.status_code() < 100 || o.status_code() > 699)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".status_code: 0 or a SIP code 100-699"));
    }
    if (o.error().size() > kMaxReportedErrorLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".error: at most ", kMaxReportedErrorLength, " characters"));
    }
    for (char c : o.error()) {
      if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".error: no control characters"));
      }
    }
  }
  return absl::OkStatus();
}

bool ReportLimiter::Allow(const std::string& peer, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    if (peers_.size() >= max_peers_)
      peers_.erase(peers_.begin());  // Any: bounded.
    it = peers_
             .emplace(peer,
                      health::RateLimiter(per_minute_ / 60.0,
                                          std::max(1.0, per_minute_ / 6), now))
             .first;
  }
  return it->second.TryAcquire(now);
}

}  // namespace sipresolver::server
