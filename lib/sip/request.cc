// Building probe requests (BuildRequest, RequestUri). See message.h; the
// responses are cut up in message.cc.

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/sip/ids.h"
#include "lib/sip/message.h"
#include "lib/sip/message_internal.h"

namespace sipresolver::sip {
namespace {

using internal::IsControl;

// Every field goes into a header line: a control character (above all CR or
// LF) could end the line and inject headers. Fields that become part of a
// URI or a single word (`word`) must not hold whitespace or the characters
// that delimit a name-addr either, or the request would not parse.
absl::Status CheckField(absl::string_view field, absl::string_view value,
                        bool word) {
  for (char c : value) {
    if (IsControl(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          " contains a control character (CR, LF or other); refused "
          "to prevent header injection"));
    }
    if (word && (c == ' ' || c == '\t' || c == '<' || c == '>' || c == '"')) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " contains '", absl::string_view(&c, 1),
                       "', which a SIP URI or word cannot hold"));
    }
  }
  return absl::OkStatus();
}

// A bare IPv6 address (two or more colons) gets brackets; "host:port" and
// names stay as they are.
std::string UriHost(absl::string_view host) {
  if (!host.empty() && host.front() != '[' &&
      std::count(host.begin(), host.end(), ':') >= 2) {
    return absl::StrCat("[", host, "]");
  }
  return std::string(host);
}

// ";transport=tcp" or ";transport=tls" in URIs; nothing for UDP.
std::string UriTransport(absl::string_view transport) {
  if (absl::EqualsIgnoreCase(transport, "UDP")) return "";
  return absl::StrCat(";transport=", absl::AsciiStrToLower(transport));
}

absl::Status CheckParams(const RequestParams& p) {
  if (p.method != "REGISTER" && p.method != "OPTIONS") {
    return absl::InvalidArgumentError(absl::StrCat(
        "method must be REGISTER or OPTIONS, not '", p.method, "'"));
  }
  const std::string transport = absl::AsciiStrToUpper(p.transport);
  if (transport != "UDP" && transport != "TCP" && transport != "TLS") {
    return absl::InvalidArgumentError(absl::StrCat(
        "transport must be UDP, TCP or TLS, not '", p.transport, "'"));
  }
  const std::pair<absl::string_view, const std::string*> words[] = {
      {"domain", &p.domain},     {"local_host", &p.local_host},
      {"user", &p.user},         {"call_id", &p.call_id},
      {"from_tag", &p.from_tag}, {"branch", &p.branch}};
  for (const auto& [field, value] : words) {
    if (auto s = CheckField(field, *value, /*word=*/true); !s.ok()) return s;
  }
  if (auto s = CheckField("user_agent", p.user_agent, false); !s.ok()) return s;
  if (auto s = CheckField("authorization", p.authorization, false); !s.ok()) {
    return s;
  }
  for (const auto& [field, value] : words) {
    if (value->empty() && (field != "user" || p.method == "REGISTER")) {
      return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
    }
  }
  if (!absl::StartsWith(p.branch, kBranchCookie)) {
    return absl::InvalidArgumentError(
        absl::StrCat("branch must start with ", kBranchCookie,
                     " (RFC 3261 8.1.1.7), got '", p.branch, "'"));
  }
  if (p.local_port == 0) {
    return absl::InvalidArgumentError("local_port must not be 0");
  }
  if (p.method == "REGISTER" && p.expires < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("expires must be >= 0, got ", p.expires));
  }
  if (!p.authorization.empty() &&
      !absl::StartsWithIgnoreCase(p.authorization, "Authorization:") &&
      !absl::StartsWithIgnoreCase(p.authorization, "Proxy-Authorization:")) {
    return absl::InvalidArgumentError(
        "authorization must be a whole header line starting with "
        "'Authorization:' or 'Proxy-Authorization:'");
  }
  return absl::OkStatus();
}

}  // namespace

std::string RequestUri(const RequestParams& p) {
  return absl::StrCat("sip:", UriHost(p.domain), UriTransport(p.transport));
}

absl::StatusOr<std::string> BuildRequest(const RequestParams& p) {
  if (auto s = CheckParams(p); !s.ok()) return s;
  const bool register_request = p.method == "REGISTER";
  const std::string transport = absl::AsciiStrToUpper(p.transport);
  const std::string uri_transport = UriTransport(transport);
  const std::string domain = UriHost(p.domain);
  const std::string local =
      absl::StrCat(UriHost(p.local_host), ":", p.local_port);
  const std::string aor = p.user.empty()
                              ? absl::StrCat("sip:", domain)
                              : absl::StrCat("sip:", p.user, "@", domain);
  const std::string contact_user = p.user.empty() ? "" : p.user + "@";

  std::string out = absl::StrCat(p.method, " ", RequestUri(p), " SIP/2.0\r\n");
  absl::StrAppend(&out, "Via: SIP/2.0/", transport, " ", local,
                  ";rport;branch=", p.branch, "\r\n");
  absl::StrAppend(&out, "Max-Forwards: 70\r\n");
  absl::StrAppend(&out, "From: <", aor, ">;tag=", p.from_tag, "\r\n");
  absl::StrAppend(&out, "To: <", aor, ">\r\n");
  absl::StrAppend(&out, "Call-ID: ", p.call_id, "\r\n");
  absl::StrAppend(&out, "CSeq: ", p.cseq, " ", p.method, "\r\n");
  absl::StrAppend(&out, "Contact: <sip:", contact_user, local, uri_transport,
                  ">\r\n");
  if (register_request) absl::StrAppend(&out, "Expires: ", p.expires, "\r\n");
  if (!p.authorization.empty()) absl::StrAppend(&out, p.authorization, "\r\n");
  if (!p.user_agent.empty()) {
    absl::StrAppend(&out, "User-Agent: ", p.user_agent, "\r\n");
  }
  absl::StrAppend(&out, "Content-Length: 0\r\n\r\n");
  return out;
}

}  // namespace sipresolver::sip
