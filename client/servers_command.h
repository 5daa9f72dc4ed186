// `sipresolver servers`: its arguments, and the ListServersResponse as a
// table of the probed endpoints and their health. Nothing here talks to the
// network.
#ifndef SIPRESOLVER_CLIENT_SERVERS_COMMAND_H_
#define SIPRESOLVER_CLIENT_SERVERS_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// `servers` takes no positionals (args are those after "servers").
// InvalidArgument means a usage error.
absl::Status CheckServersArgs(const std::vector<std::string>& args);

// Display names of health states in the table: "unknown", "healthy",
// "unhealthy"; "?" for values newer than this client.
absl::string_view HealthStateName(v1::HealthState state);

// How long ago, compact: "12s ago", "5m07s ago", "3h05m ago", "2d03h ago".
// A negative age (clocks apart) is "0s ago".
std::string FormatAge(absl::Duration age);
// A latency in milliseconds: "0.25ms", "3.1ms", "125ms"; "-" for zero or less
// (no response measured yet).
std::string FormatLatency(absl::Duration latency);
// What the last probe got: the response code ("401"), followed by the error
// when it says more than the code; the error alone when no response came
// ("no final response within 2s"); "-" before the first probe.
std::string FormatLastResult(const v1::EndpointHealth& health);

// The servers table: ADDRESS PORT TRANSPORT STATE LAST LATENCY SINCE
// DOMAINS, one row per endpoint in the server's order. LATENCY is the moving
// average (EWMA) of the response time, SINCE the time from the last state
// change to `now` (the wall clock). An IP-literal server (no domain) shows as
// "(IP literal)" under DOMAINS. Ends in "\n".
std::string FormatServersTable(const v1::ListServersResponse& response,
                               absl::Time now);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_SERVERS_COMMAND_H_
