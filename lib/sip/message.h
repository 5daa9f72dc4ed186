// SIP messages for probing (RFC 3261): building the REGISTER and OPTIONS
// requests a device would send, and parsing the responses registrars send
// back, which we do not control.
//
// Why our own parser and not libosip2 (Debian libosip2-dev 5.3): libosip2
// needs a process-global parser_init(), hands back malloc'd C strings that
// still carry their quotes and escapes (realm, nonce, qop), parses far more
// of a message than a probe reads, and has had memory-safety CVEs in exactly
// that code. A probe reads a dozen headers, so a small bounds-checked parser
// that we fuzz ourselves is less code to trust and adds no dependency.
//
// Parsing policy: strict about what we extract (Via, Call-ID, CSeq, From/To
// tags, challenges, Expires, Contact expires, Content-Length: a malformed,
// duplicated or out-of-range value is an error naming the header), lenient
// about the rest (unknown headers are only checked for being well-formed
// header lines). No exceptions, no recursion, every loop bounded by the input
// size and the limits below. Pure functions: safe to call from any thread.
#ifndef SIPRESOLVER_LIB_SIP_MESSAGE_H_
#define SIPRESOLVER_LIB_SIP_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sipresolver::sip {

// ---------------------------------------------------------------- requests

struct RequestParams {
  std::string method;  // "REGISTER" or "OPTIONS".
  // Request-URI sip:DOMAIN and AOR sip:USER@DOMAIN; a host, optionally with
  // :port. A bare IPv6 address gets brackets.
  std::string domain;
  std::string transport;  // "UDP", "TCP" or "TLS" (any case).
  // Via sent-by host and Contact host. An IPv6 address may be given with or
  // without brackets; it is written with them.
  std::string local_host;
  uint16_t local_port = 0;
  // From/To user. Required for REGISTER; for OPTIONS an empty user makes
  // From/To sip:DOMAIN and Contact sip:LOCAL_HOST:PORT.
  std::string user;
  std::string call_id, from_tag, branch;  // See ids.h; branch "z9hG4bK...".
  uint32_t cseq = 1;
  int expires = 0;         // REGISTER only: Expires header; 0 = unregister.
  std::string user_agent;  // e.g. "sipresolver/0.1"; empty = no header.
  // A whole header line without CRLF, "Authorization: Digest ..." or
  // "Proxy-Authorization: Digest ..."; empty = none.
  std::string authorization;
};

// Returns the request with CRLF line endings: request line, Via (with ;rport
// and ;branch=), Max-Forwards: 70, From (;tag=), To, Call-ID, CSeq, Contact,
// Expires (REGISTER), the authorization line, User-Agent, Content-Length: 0
// and the empty line. For TCP and TLS the Request-URI and Contact carry
// ;transport=tcp / ;transport=tls.
// INVALID_ARGUMENT, naming the field, if a field holds a control character
// (CR/LF injection), a URI or word field holds whitespace, '<', '>' or '"',
// a required field is empty, or method/transport/port/expires is unsupported.
absl::StatusOr<std::string> BuildRequest(const RequestParams& p);

// The Request-URI BuildRequest writes ("sip:example.com;transport=tcp"):
// the digest-uri an Authorization header for this request must carry.
std::string RequestUri(const RequestParams& p);

// --------------------------------------------------------------- responses

// One Via value. host and received hold IPv6 addresses without brackets;
// received is as sent otherwise (RFC 3261 says an IP address, but it is not
// checked: a consumer that needs an address must validate it).
struct Via {
  std::string transport;  // Upper case: "UDP", "TCP", "TLS", ...
  std::string host;
  std::optional<uint16_t> port;
  std::string branch;  // Empty if absent.
  std::optional<std::string> received;
  std::optional<uint16_t> rport;  // rport=PORT.
  bool rport_present = false;     // rport with or without a value.
};

// One WWW-Authenticate or Proxy-Authenticate challenge. Values are unquoted
// and unescaped; scheme and algorithm as sent (compare case-insensitively).
struct Challenge {
  bool proxy = false;  // Proxy-Authenticate (407) vs WWW-Authenticate (401).
  std::string scheme, realm, nonce, opaque, algorithm;
  std::vector<std::string> qop;  // qop="auth,auth-int" -> {"auth", "auth-int"}.
  bool stale = false;            // stale=TRUE (any case).
};

struct Response {
  int status_code = 0;  // 100-699.
  std::string reason;
  std::vector<Via> vias;  // Top first; "Via: a, b" gives two entries.
  std::string call_id;
  uint32_t cseq = 0;
  std::string cseq_method;
  std::string from_tag, to_tag;       // Empty if absent (or From/To absent).
  std::vector<Challenge> challenges;  // In header order.
  std::optional<int> expires;         // Expires header.
  // Contact URIs (without <>) with their ;expires= value, -1 if absent.
  std::vector<std::pair<std::string, int>> contact_expires;
  std::optional<int> min_expires;  // Min-Expires (423 Interval Too Brief).
  std::optional<int> retry_after;  // Retry-After seconds (503 and others).
  std::optional<size_t> content_length;
};

// Limits on what one message may make us do.
inline constexpr size_t kMaxMessageSize =
    size_t{64} * 1024;  // Bytes, body included.
inline constexpr int kMaxHeaderFields = 256;
// Per kind, over the whole message: Via values, Contact values, challenges;
// and parameters of one Via or Contact value.
inline constexpr int kMaxListValues = 64;

// Parses one complete response (a UDP datagram, or a stream message cut by
// FramedMessageLength). Leading CR/LF bytes are skipped (RFC 3261 7.5). Header
// names are case-insensitive and may be compact (v, i, f, t, m, l); folded
// lines are joined; LF-only line endings are accepted. Bytes after
// Content-Length are ignored (RFC 3261 18.3); no Content-Length means the rest
// is the body.
// Errors: DATA_LOSS if the header section has no end or the body is shorter
// than Content-Length; INVALID_ARGUMENT for everything else: a request, a bad
// status line or code, a missing Via/Call-ID/CSeq, a malformed, duplicate or
// out-of-range value, a control character, or a limit above exceeded.
absl::StatusOr<Response> ParseResponse(absl::string_view message);

// For stream transports (TCP/TLS): the length of the first complete message
// at the start of `buffer` (leading CR/LF keep-alives, headers, empty line and
// Content-Length bytes of body), or 0 if more bytes are needed. A missing
// Content-Length counts as 0 (RFC 3261 requires it on streams). Works for
// requests too, so a caller can skip them. INVALID_ARGUMENT if the message is
// or would be larger than kMaxMessageSize, or Content-Length is malformed or
// given twice with different values: the caller should close the connection.
absl::StatusOr<size_t> FramedMessageLength(absl::string_view buffer);

// ----------------------------------------------------------- header values
//
// The grammars ParseResponse applies to single header values (unfolded, name
// and colon removed). Public so that a caller can read one header on its own
// and so that tests can pin each grammar. Lists append to `out`, so repeated
// headers accumulate, up to kMaxListValues. Errors are INVALID_ARGUMENT and
// name the header.

// Via (RFC 3261 20.42): comma-separated "SIP/2.0/TRANSPORT host[:port];params".
absl::Status ParseViaValue(absl::string_view value, std::vector<Via>* out);
// Contact (20.10): comma-separated name-addr or addr-spec with parameters;
// each URI with its ;expires= (0 to INT_MAX), -1 if absent.
absl::Status ParseContactValue(absl::string_view value,
                               std::vector<std::pair<std::string, int>>* out);
// From or To (20.20, 20.39): the ;tag= value, "" if absent. `header` names
// the header in errors.
absl::StatusOr<std::string> ParseAddressTag(absl::string_view value,
                                            absl::string_view header);
// WWW-Authenticate or Proxy-Authenticate (`proxy`): one or more challenges.
absl::Status ParseAuthenticateValue(absl::string_view value, bool proxy,
                                    std::vector<Challenge>* out);
// CSeq (20.16): "NUMBER METHOD", NUMBER a uint32_t.
absl::Status ParseCSeqValue(absl::string_view value, uint32_t* number,
                            std::string* method);
// Expires, Min-Expires, Retry-After: delta-seconds, 0 to INT_MAX. For
// Retry-After (`allow_suffix`) a comment or parameters may follow.
absl::StatusOr<int> ParseDeltaSeconds(absl::string_view value,
                                      absl::string_view header,
                                      bool allow_suffix);

}  // namespace sipresolver::sip

#endif  // SIPRESOLVER_LIB_SIP_MESSAGE_H_
