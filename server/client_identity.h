// ClientIdentity: who a caller is, for everything the service counts per
// client (device evidence reporters, the report rate): the identity its
// certificate proves under mutual TLS, else its network address. Never what
// the caller says about itself (agent_id): one program opening three
// connections with three agent ids is one client.
//
// Without mutual TLS the address is the best the service has: an IPv4
// address, or an IPv6 /64 (one subscriber's prefix: a host picks any
// address in it). Devices behind one NAT count as one client there; a fleet
// that needs its devices counted apart uses client certificates.
#ifndef SIPRESOLVER_SERVER_CLIENT_IDENTITY_H_
#define SIPRESOLVER_SERVER_CLIENT_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sipresolver::server {

// `cert_identities`: the peer identity of an authenticated TLS peer (the
// certificate's subject alternative names, else its common name; empty when
// the peer presented no verified certificate). `peer`: gRPC's peer text,
// "ipv4:192.0.2.1:5060", "ipv6:[2001:db8::1]:5060", "unix:/path".
// Returns "cert:" and the identities joined by ",", or "ip:" and the address
// (IPv4) or its /64 (IPv6), or `peer` itself for anything else.
std::string ClientIdentity(const std::vector<std::string>& cert_identities,
                           absl::string_view peer);

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_CLIENT_IDENTITY_H_
