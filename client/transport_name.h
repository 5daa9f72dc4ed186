// A SIP transport's name on the command line and in output: udp, tcp, tls.
#ifndef SIPRESOLVER_CLIENT_TRANSPORT_NAME_H_
#define SIPRESOLVER_CLIENT_TRANSPORT_NAME_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// --transport: empty means unset (the server then applies the device's
// default, UDP); InvalidArgument for anything else unknown.
absl::StatusOr<v1::Transport> ParseTransport(absl::string_view text);

// "udp", "tcp", "tls" (unspecified is UDP); "?" for values newer than this
// client.
absl::string_view TransportName(v1::Transport transport);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_TRANSPORT_NAME_H_
