// The SIP transport of a server (ProxyServerTransport, S12), shared by name
// resolution (default port) and probing (how to reach it).
#ifndef SIPRESOLVER_LIB_CORE_TRANSPORT_H_
#define SIPRESOLVER_LIB_CORE_TRANSPORT_H_

#include "absl/strings/string_view.h"

namespace sipresolver {

enum class Transport { kUdp, kTcp, kTls };

// "UDP", "TCP", "TLS": the Via transport token.
inline absl::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kUdp:
      return "UDP";
    case Transport::kTcp:
      return "TCP";
    case Transport::kTls:
      return "TLS";
  }
  return "UDP";
}

}  // namespace sipresolver

#endif  // SIPRESOLVER_LIB_CORE_TRANSPORT_H_
