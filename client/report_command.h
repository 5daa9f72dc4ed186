// `sipresolver report`: a device (or its hook) tells the service how a
// REGISTER went, so that its registrations count as device evidence beside
// the service's probes (fail static). Argument handling, kept apart from the
// RPC for unit tests.
#ifndef SIPRESOLVER_CLIENT_REPORT_COMMAND_H_
#define SIPRESOLVER_CLIENT_REPORT_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// args: ADDRESS:PORT (IPv6 in brackets) and CODE (the final SIP response
// code; 0 when none came). `transport` as --transport (empty: udp);
// `agent_id` empty: derived from the machine id (client/agent_id.h).
// INVALID_ARGUMENT names what is wrong.
absl::StatusOr<v1::ReportObservationRequest> MakeReportRequest(
    const std::vector<std::string>& args, const std::string& agent_id,
    const std::string& transport);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_REPORT_COMMAND_H_
