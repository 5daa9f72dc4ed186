#include "server/fleet_records.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sipresolver::server {

std::optional<FleetKey> ParseFleetKey(absl::string_view prefix,
                                      absl::string_view key) {
  if (!absl::ConsumePrefix(&key, prefix)) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(key, '/');
  for (const std::string& p : parts) {
    if (p.empty()) return std::nullopt;
  }
  if (parts.size() == 2 && parts[0] == "replicas") {
    return FleetKey{parts[0], "", parts[1]};
  }
  if (parts.size() == 2 && parts[0] == "health") {
    return FleetKey{parts[0], parts[1], ""};
  }
  if (parts.size() == 3 && (parts[0] == "wanted" || parts[0] == "evidence")) {
    return FleetKey{parts[0], parts[1], parts[2]};
  }
  return std::nullopt;
}

std::string WantedKey(absl::string_view prefix, absl::string_view endpoint_key,
                      absl::string_view replica) {
  return absl::StrCat(prefix, "wanted/", endpoint_key, "/", replica);
}

std::string HealthKey(absl::string_view prefix,
                      absl::string_view endpoint_key) {
  return absl::StrCat(prefix, "health/", endpoint_key);
}

std::string EvidenceKey(absl::string_view prefix,
                        absl::string_view endpoint_key,
                        absl::string_view replica) {
  return absl::StrCat(prefix, "evidence/", endpoint_key, "/", replica);
}

namespace {
constexpr size_t kMaxReports = 64;
}  // namespace

std::string EncodeReports(const std::vector<health::SharedReport>& reports,
                          absl::Time wall_now) {
  std::string out;
  for (size_t i = 0; i < reports.size() && i < kMaxReports; ++i) {
    const health::SharedReport& r = reports[i];
    absl::StrAppend(&out, absl::Hex(r.reporter.agent), " ",
                    absl::Hex(r.reporter.client), " ", r.registered ? 1 : 0,
                    " ", absl::ToUnixMillis(wall_now - r.age), "\n");
  }
  return out;
}

absl::StatusOr<std::vector<health::SharedReport>> DecodeReports(
    absl::string_view text, absl::Time wall_now) {
  std::vector<health::SharedReport> reports;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (reports.size() == kMaxReports) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence: more than ", kMaxReports, " reports"));
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    health::SharedReport r;
    int64_t at_ms = 0;
    if (f.size() != 4 || !absl::SimpleHexAtoi(f[0], &r.reporter.agent) ||
        !absl::SimpleHexAtoi(f[1], &r.reporter.client) ||
        (f[2] != "0" && f[2] != "1") || !absl::SimpleAtoi(f[3], &at_ms)) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence: bad report \"", absl::CEscape(line), "\""));
    }
    r.registered = f[2] == "1";
    // A clock ahead of ours makes a report new, never from the future.
    r.age =
        std::max(absl::ZeroDuration(), wall_now - absl::FromUnixMillis(at_ms));
    reports.push_back(r);
  }
  return reports;
}

std::string EncodeHealthRecord(const HealthRecord& r) {
  const health::SharedHealth& h = r.health;
  return absl::StrCat(
      "origin=", absl::CEscape(r.origin), "\n",
      "at_ms=", r.at == absl::InfinitePast() ? 0 : absl::ToUnixMillis(r.at),
      "\n", "state=", health::HealthStateName(h.counters.state), "\n",
      "successes=", h.counters.consecutive_successes, "\n",
      "failures=", h.counters.consecutive_failures, "\n",
      "code=", h.last_response_code, "\n",
      "latency_us=", absl::ToInt64Microseconds(h.latency), "\n",
      "error=", absl::CEscape(h.last_error), "\n");
}

absl::StatusOr<HealthRecord> DecodeHealthRecord(absl::string_view text) {
  // A record is a few short lines; anything big is not one of ours.
  constexpr size_t kMaxRecordBytes = 4096;
  if (text.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "health record: ", text.size(), " bytes, more than ", kMaxRecordBytes));
  }
  HealthRecord r;
  bool has_origin = false, has_state = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "health record: line without '=': ", absl::CEscape(line)));
    }
    const absl::string_view name = line.substr(0, eq);
    const absl::string_view value = line.substr(eq + 1);
    health::SharedHealth& h = r.health;
    bool ok = true;
    if (name == "origin") {
      ok = absl::CUnescape(value, &r.origin) && !r.origin.empty();
      has_origin = ok;
    } else if (name == "state") {
      has_state = true;
      if (value == "healthy") {
        h.counters.state = health::HealthState::kHealthy;
      } else if (value == "unhealthy") {
        h.counters.state = health::HealthState::kUnhealthy;
      } else if (value == "unknown") {
        h.counters.state = health::HealthState::kUnknown;
      } else {
        ok = false;
      }
    } else if (name == "at_ms") {
      int64_t ms = 0;
      ok = absl::SimpleAtoi(value, &ms) && ms >= 0;
      r.at = ms == 0 ? absl::InfinitePast() : absl::FromUnixMillis(ms);
    } else if (name == "successes") {
      ok = absl::SimpleAtoi(value, &h.counters.consecutive_successes) &&
           h.counters.consecutive_successes >= 0;
    } else if (name == "failures") {
      ok = absl::SimpleAtoi(value, &h.counters.consecutive_failures) &&
           h.counters.consecutive_failures >= 0;
    } else if (name == "code") {
      ok = absl::SimpleAtoi(value, &h.last_response_code);
    } else if (name == "latency_us") {
      int64_t us = 0;
      ok = absl::SimpleAtoi(value, &us) && us >= 0;
      h.latency = absl::Microseconds(us);
    } else if (name == "error") {
      ok = absl::CUnescape(value, &h.last_error);
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "health record: bad ", name, " \"", absl::CEscape(value), "\""));
    }
  }
  if (!has_origin || !has_state) {
    return absl::InvalidArgumentError("health record: no origin or state");
  }
  return r;
}

}  // namespace sipresolver::server
