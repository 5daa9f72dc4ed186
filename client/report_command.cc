#include "client/report_command.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/default_agent_id.h"
#include "client/transport_name.h"

namespace sipresolver::cli {

absl::StatusOr<v1::ReportObservationRequest> MakeReportRequest(
    const std::vector<std::string>& args, const std::string& agent_id,
    const std::string& transport) {
  if (args.size() != 2) {
    return absl::InvalidArgumentError("report needs ADDRESS:PORT and CODE");
  }
  const std::string& where = args[0];
  const size_t colon = where.rfind(':');
  std::string address =
      colon == std::string::npos ? "" : where.substr(0, colon);
  const bool v6 =
      address.size() > 2 && address.front() == '[' && address.back() == ']';
  if (v6) address = address.substr(1, address.size() - 2);
  uint32_t port = 0;
  if (address.empty() || (!v6 && address.find(':') != std::string::npos) ||
      !absl::SimpleAtoi(where.substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad server \"", where, "\": ADDRESS:PORT, IPv6 as [ADDRESS]:PORT"));
  }
  uint32_t code = 0;
  if (!absl::SimpleAtoi(args[1], &code) ||
      (code != 0 && (code < 100 || code > 699))) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad code \"", args[1],
                     "\": the final SIP response code, or 0 for none"));
  }
  absl::StatusOr<v1::Transport> t = ParseTransport(transport);
  if (!t.ok()) return t.status();

  v1::ReportObservationRequest request;
  std::string agent = agent_id;
  if (agent.empty()) {
    absl::StatusOr<std::string> derived = client::DefaultAgentId();
    if (!derived.ok()) return derived.status();
    agent = *std::move(derived);
  }
  request.set_agent_id(agent);
  v1::RegistrationOutcome& o = *request.add_registrations();
  o.mutable_server()->set_address(address);
  o.mutable_server()->set_port(port);
  o.mutable_server()->set_transport(*t);
  o.set_status_code(code);
  if (code == 0) o.set_error("no final response");
  return request;
}

}  // namespace sipresolver::cli
