// Conversions between the public API (sipresolver.v1 protos) and the engine's
// plain C++ types. The only place where the two meet, so the engine stays
// free of gRPC and protobuf.
#ifndef SIPRESOLVER_SERVER_API_CONVERT_H_
#define SIPRESOLVER_SERVER_API_CONVERT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/dns/device_resolver.h"
#include "lib/health/health_tracker.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::server {

// Validates and converts; INVALID_ARGUMENT names the field (unknown enum
// values included) and, where one applies, the device rule.
absl::StatusOr<dns::ServerSpec> ToServerSpec(const v1::ResolveRequest& request);

absl::StatusOr<Transport> FromProto(v1::Transport transport,
                                    absl::string_view field);
absl::StatusOr<dns::IpVersion> FromProto(v1::IpVersion version,
                                         absl::string_view field);
v1::Transport ToProto(Transport transport);
void ToCandidate(const dns::Candidate& candidate, v1::Candidate& out);
void SetDuration(absl::Duration d, google::protobuf::Duration& out);
void SetTimestamp(absl::Time t, google::protobuf::Timestamp& out);

void ToResolveResponse(const dns::Resolution& resolution,
                       v1::ResolveResponse& response);

// Appends a one-line summary of the lookups to an error's message, so a
// NOT_FOUND or UNAVAILABLE tells what was tried.
absl::Status WithLookups(const absl::Status& status,
                         const dns::Resolution& resolution);

// Health as the API shows it. Engine times are monotonic Clock times;
// `clock_now` and `wall_now` (the same instant on both clocks) map them to
// wall-clock timestamps.
void ToEndpointHealth(const health::EndpointStatus& status,
                      absl::Time clock_now, absl::Time wall_now,
                      v1::EndpointHealth& out);
void ToServerStatus(const health::EndpointStatus& status, absl::Time clock_now,
                    absl::Time wall_now, v1::ServerStatus& out);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_API_CONVERT_H_
