#include "client/servers_command.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/text_columns.h"
#include "client/transport_name.h"

namespace sipresolver::cli {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

absl::Status CheckServersArgs(const std::vector<std::string>& args) {
  if (args.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("servers: unexpected argument '", args[0], "'"));
}

absl::string_view HealthStateName(v1::HealthState state) {
  switch (state) {
    case v1::HEALTH_STATE_UNKNOWN:
      return "unknown";
    case v1::HEALTH_STATE_HEALTHY:
      return "healthy";
    case v1::HEALTH_STATE_UNHEALTHY:
      return "unhealthy";
    default:
      return "?";
  }
}

std::string FormatAge(absl::Duration age) {
  const int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(age));
  if (s < 60) return absl::StrCat(s, "s ago");
  if (s < 3600) return absl::StrFormat("%dm%02ds ago", s / 60, s % 60);
  if (s < 86400)
    return absl::StrFormat("%dh%02dm ago", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh ago", s / 86400, s % 86400 / 3600);
}

std::string FormatLatency(absl::Duration latency) {
  if (latency <= absl::ZeroDuration()) return "-";
  const double ms = absl::ToDoubleMilliseconds(latency);
  if (ms < 1) return absl::StrFormat("%.2fms", ms);
  if (ms < 10) return absl::StrFormat("%.1fms", ms);
  return absl::StrFormat("%.0fms", ms);
}

std::string FormatLastResult(const v1::EndpointHealth& health) {
  const uint32_t code = health.last_response_code();
  const std::string& error = health.last_error();
  if (code == 0) return error.empty() ? "-" : error;
  // The service words an error reply "answered 503": the code says it all.
  if (error.empty() || error == absl::StrCat("answered ", code)) {
    return absl::StrCat(code);
  }
  return absl::StrCat(code, " ", error);
}

std::string FormatServersTable(const v1::ListServersResponse& response,
                               absl::Time now) {
  if (response.servers().empty()) {
    return "No servers are probed: a server is probed while an agent watches "
           "a profile that\nneeds it and --probe_allow allows it.\n";
  }
  std::vector<std::vector<std::string>> rows = {{"ADDRESS", "PORT", "TRANSPORT",
                                                 "STATE", "LAST", "LATENCY",
                                                 "SINCE", "DOMAINS"}};
  for (const v1::ServerStatus& s : response.servers()) {
    const v1::EndpointHealth& h = s.health();
    std::vector<std::string> domains;
    for (const std::string& d : s.domains()) {
      domains.push_back(d.empty() ? "(IP literal)" : d);
    }
    rows.push_back(
        {s.endpoint().address(), absl::StrCat(s.endpoint().port()),
         std::string(TransportName(s.endpoint().transport())),
         std::string(HealthStateName(h.state())), FormatLastResult(h),
         FormatLatency(FromProto(h.latency_ewma())),
         h.has_last_change() ? FormatAge(now - FromProto(h.last_change()))
                             : "-",
         domains.empty() ? "-" : absl::StrJoin(domains, ",")});
  }
  std::string out = FormatColumns(
      rows, {false, true, false, false, false, true, true, false}, "");
  // Fail static: where the probes and the devices disagree, and why.
  for (const v1::ServerStatus& s : response.servers()) {
    const v1::EndpointHealth& h = s.health();
    if (h.state() != v1::HEALTH_STATE_UNHEALTHY || h.device_successes() == 0)
      continue;
    const bool counted = h.decision_state() == v1::HEALTH_STATE_HEALTHY;
    absl::StrAppend(
        &out, "\n", s.endpoint().address(), ":", s.endpoint().port(),
        ": probes fail but ", h.device_successes(),
        h.device_successes() == 1 ? " device registers" : " devices register",
        " there", counted ? " (decisions count it as working)" : "",
        ": is the service banned by the ITSP or its egress blocked?");
  }
  if (response.probe_path_suspect()) {
    absl::StrAppend(
        &out, "\nProbe path suspect: ",
        absl::StrFormat("%.0f", 100 * response.probe_healthy_ratio()),
        "% of the probed endpoints are healthy, failures span several "
        "domains; every decision is unconfirmed (fail static).");
  }
  return out;
}

}  // namespace sipresolver::cli
