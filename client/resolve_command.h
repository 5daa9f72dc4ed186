// `sipresolver resolve`: its flags mapped to a ResolveRequest, and the
// response as a table. Nothing here talks to the network.
#ifndef SIPRESOLVER_CLIENT_RESOLVE_COMMAND_H_
#define SIPRESOLVER_CLIENT_RESOLVE_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// The `resolve` flags as typed on the command line.
struct ResolveFlags {
  uint32_t port = 0;
  std::string transport;   // "", udp, tcp, tls.
  std::string ip_version;  // "", v4, v6, dual.
  bool redundancy = false;
};

// Empty means unset: the server then applies the device's default (IPv4
// only). InvalidArgument for anything else unknown.
absl::StatusOr<v1::IpVersion> ParseIpVersion(absl::string_view text);

// Maps `resolve NAME` (args are the positionals after "resolve") and its flags
// to a request. InvalidArgument means a usage error.
absl::StatusOr<v1::ResolveRequest> MakeResolveRequest(
    const std::vector<std::string>& args, const ResolveFlags& flags);

// Display names used in the table.
absl::string_view CandidateSourceName(v1::CandidateSource source);
absl::string_view RecordTypeName(v1::RecordType type);
absl::string_view LookupOutcomeName(v1::LookupOutcome outcome);

// The candidates table followed by the "Lookups:" section; ends in "\n".
std::string FormatResolveTable(const v1::ResolveResponse& response);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_RESOLVE_COMMAND_H_
