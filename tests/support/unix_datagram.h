// SendDatagram: one datagram to a unix datagram socket, as a device's SIP
// stack sends its REGISTER reports to `watch --report_socket`.
#ifndef SIPRESOLVER_TESTS_SUPPORT_UNIX_DATAGRAM_H_
#define SIPRESOLVER_TESTS_SUPPORT_UNIX_DATAGRAM_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sipresolver::testing {

// Sends `data` as one datagram to the socket bound at `path`.
absl::Status SendDatagram(const std::string& path, absl::string_view data);

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_UNIX_DATAGRAM_H_
