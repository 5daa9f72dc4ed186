// How an address and a port are written for people, logs and hooks: an IPv6
// address in brackets ("[2001:db8::1]:5060"), so that "sip:" + the text is a
// valid URI host and the port cannot be read as part of the address.
#ifndef SIPRESOLVER_LIB_CORE_HOST_PORT_H_
#define SIPRESOLVER_LIB_CORE_HOST_PORT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sipresolver {

// "[2001:db8::1]" for an IPv6 address (any text with a colon), else the
// address as it is.
std::string BracketedHost(absl::string_view address);

// "192.0.2.1:5060", "[2001:db8::1]:5060".
std::string HostPort(absl::string_view address, uint32_t port);

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_HOST_PORT_H_
