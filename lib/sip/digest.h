// HTTP Digest authentication as SIP uses it (RFC 3261 22.4, RFC 2617,
// RFC 7616, RFC 8760): turns a registrar's 401/407 challenge plus the probe's
// credentials into the Authorization / Proxy-Authorization header of the
// retried REGISTER.
//
// Supported: algorithms MD5, MD5-sess, SHA-256, SHA-256-sess (matched without
// regard to case; absent means MD5); qop "auth", and "auth-int" when it is the
// only qop offered; no qop at all (RFC 2069 compatibility). userhash,
// username* and SHA-512-256 are not.
//
// Usage: parse the challenge elsewhere (values unquoted and unescaped), pick a
// fresh cnonce per challenge (e.g. NewTag() from ids.h) and count requests
// answered with the same nonce in `nonce_count`, starting at 1.
//
// Safety: every value that goes inside a quoted string is refused
// (INVALID_ARGUMENT) if it holds a CR, LF, '"', '\' or other control
// character, so nothing a registrar sends can add a header line or change the
// meaning of another parameter. The password is only ever hashed: it is fed
// to the digest piecewise (never concatenated into a copy), it never appears
// in a result or an error message, and the password-equivalent H(A1) is wiped
// when done.
//
// Pure functions; thread-safe.
#ifndef SIPRESOLVER_LIB_SIP_DIGEST_H_
#define SIPRESOLVER_LIB_SIP_DIGEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sip/message.h"

namespace sipresolver::sip {

// What the server sent (WWW-Authenticate or Proxy-Authenticate), unquoted.
struct DigestChallenge {
  std::string realm;      // Required; empty counts as missing.
  std::string nonce;      // Required; empty counts as missing.
  std::string opaque;     // Echoed back when not empty.
  std::string algorithm;  // "" means MD5. Echoed back as the server spelt it.
  // Offered qop values, e.g. {"auth", "auth-int"}; an element may also be a
  // comma-separated list as it appears on the wire. Empty: RFC 2069 style.
  std::vector<std::string> qop;
  // 407 Proxy-Authenticate: answer with Proxy-Authorization.
  bool proxy = false;
};

// The digest view of a parsed WWW-/Proxy-Authenticate challenge.
DigestChallenge ToDigestChallenge(const Challenge& challenge);

struct DigestCredentials {
  std::string username;
  std::string password;
};

struct DigestResponseParams {
  std::string method;  // Request method, e.g. "REGISTER".
  std::string uri;     // Request-URI, e.g. "sip:example.com".
  // Client nonce; required whenever a qop is used or the algorithm is -sess.
  std::string cnonce;
  // Requests sent so far with this nonce, this one included; 1 or more.
  uint32_t nonce_count = 1;
};

// The whole header line without CRLF, e.g.
//   Authorization: Digest username="alice", realm="example.com",
//   nonce="...", uri="sip:example.com", response="...", algorithm=MD5,
//   cnonce="...", qop=auth, nc=00000001, opaque="..."
// (on one line). cnonce, qop and nc appear only when a qop is used; opaque
// only when the challenge had one. With qop "auth-int" the body hash is that
// of an empty body: do not use it for a request that carries a body.
// Errors: INVALID_ARGUMENT naming the field and the rule (missing realm or
// nonce, unsafe characters, missing cnonce, nonce_count 0, -sess without
// qop); UNIMPLEMENTED naming an unsupported algorithm or qop; INTERNAL if
// OpenSSL cannot compute the digest (e.g. MD5 disabled by a FIPS policy).
absl::StatusOr<std::string> DigestAuthorizationHeader(
    const DigestChallenge& challenge, const DigestCredentials& credentials,
    const DigestResponseParams& params);

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_DIGEST_H_
