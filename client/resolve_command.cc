#include "client/resolve_command.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/text_columns.h"
#include "client/transport_name.h"

namespace sipresolver::cli {
namespace {

std::string Seconds(uint32_t seconds) { return absl::StrCat(seconds, "s"); }

}  // namespace

absl::StatusOr<v1::IpVersion> ParseIpVersion(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower.empty()) return v1::IP_VERSION_UNSPECIFIED;
  if (lower == "v4") return v1::IP_VERSION_V4;
  if (lower == "v6") return v1::IP_VERSION_V6;
  if (lower == "dual") return v1::IP_VERSION_DUAL;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --ip_version '", text, "': want v4, v6 or dual"));
}

absl::StatusOr<v1::ResolveRequest> MakeResolveRequest(
    const std::vector<std::string>& args, const ResolveFlags& flags) {
  if (args.empty()) return absl::InvalidArgumentError("resolve: missing NAME");
  if (args.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolve: unexpected argument '", args[1], "'"));
  }
  if (args[0].empty()) return absl::InvalidArgumentError("resolve: empty NAME");
  if (flags.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --port ", flags.port, ": want 1-65535, or 0 for the default"));
  }
  absl::StatusOr<v1::Transport> transport = ParseTransport(flags.transport);
  if (!transport.ok()) return transport.status();
  absl::StatusOr<v1::IpVersion> ip_version = ParseIpVersion(flags.ip_version);
  if (!ip_version.ok()) return ip_version.status();

  v1::ResolveRequest request;
  request.set_server(args[0]);
  request.set_port(flags.port);
  request.set_transport(*transport);
  request.set_redundancy(flags.redundancy);
  request.set_ip_version(*ip_version);
  return request;
}

absl::string_view CandidateSourceName(v1::CandidateSource source) {
  switch (source) {
    case v1::CANDIDATE_SOURCE_A:
      return "A";
    case v1::CANDIDATE_SOURCE_AAAA:
      return "AAAA";
    case v1::CANDIDATE_SOURCE_SRV:
      return "SRV";
    case v1::CANDIDATE_SOURCE_SRV_SIP_UDP:
      return "SRV _sip._udp";
    case v1::CANDIDATE_SOURCE_IP_LITERAL:
      return "IP literal";
    default:
      return "?";  // Unspecified, or newer than this client.
  }
}

absl::string_view RecordTypeName(v1::RecordType type) {
  switch (type) {
    case v1::RECORD_TYPE_A:
      return "A";
    case v1::RECORD_TYPE_AAAA:
      return "AAAA";
    case v1::RECORD_TYPE_SRV:
      return "SRV";
    case v1::RECORD_TYPE_CNAME:
      return "CNAME";
    default:
      return "?";
  }
}

absl::string_view LookupOutcomeName(v1::LookupOutcome outcome) {
  switch (outcome) {
    case v1::LOOKUP_OUTCOME_ANSWER:
      return "answer";
    case v1::LOOKUP_OUTCOME_NXDOMAIN:
      return "NXDOMAIN";
    case v1::LOOKUP_OUTCOME_NODATA:
      return "NODATA";
    case v1::LOOKUP_OUTCOME_NO_SERVICE:
      return "no service";
    case v1::LOOKUP_OUTCOME_UNAVAILABLE:
      return "unavailable";
    default:
      return "?";
  }
}

std::string FormatResolveTable(const v1::ResolveResponse& response) {
  std::string out;
  if (response.candidates().empty()) {
    out = "No candidates.\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"#", "ADDRESS", "PORT",
                                                   "PRIORITY", "WEIGHT",
                                                   "SOURCE", "TTL", "TARGET"}};
    int index = 0;
    for (const v1::Candidate& c : response.candidates()) {
      rows.push_back({absl::StrCat(++index), c.address(),
                      absl::StrCat(c.port()), absl::StrCat(c.priority()),
                      absl::StrCat(c.weight()),
                      std::string(CandidateSourceName(c.source())),
                      Seconds(c.ttl_seconds()), c.target()});
    }
    // Numbers right-aligned so their digits line up.
    out = FormatColumns(
        rows, {true, false, true, true, true, false, true, false}, "");
  }

  if (response.lookups().empty()) return out + "\nLookups: none\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::Lookup& l : response.lookups()) {
    // Stale answers come from the cache too; "stale" says more.
    const char* marker = l.stale() ? "stale" : l.from_cache() ? "cache" : "";
    rows.push_back({l.name(), std::string(RecordTypeName(l.type())),
                    std::string(LookupOutcomeName(l.outcome())),
                    Seconds(l.ttl_seconds()), marker, l.detail()});
  }
  return absl::StrCat(
      out, "\nLookups:\n",
      FormatColumns(rows, {false, false, false, true, false, false}, "  "));
}

}  // namespace sipresolver::cli
