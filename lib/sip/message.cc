// Building probe requests; cutting messages into start line, headers and
// body (ParseResponse, and FramedMessageLength for streams). See message.h;
// the header value grammars are in message_parser.cc.

#include "lib/sip/message.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/sip/ids.h"

namespace sipresolver::sip {
namespace {

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}
bool IsTokenChar(char c) {  // RFC 3261 25.1 token.
  return absl::ascii_isalnum(c) ||
         absl::string_view("-.!%*_+`'~").find(c) != absl::string_view::npos;
}

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

// A Content-Length value, at most kMaxMessageSize.
absl::StatusOr<size_t> ParseContentLength(absl::string_view value) {
  auto n = ParseDeltaSeconds(value, "Content-Length", false);
  if (!n.ok()) return n.status();
  if (static_cast<size_t>(*n) > kMaxMessageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Length ", *n, " exceeds the ", kMaxMessageSize,
                     "-byte message limit"));
  }
  return static_cast<size_t>(*n);
}

absl::Status TooLarge() {
  return absl::InvalidArgumentError(
      absl::StrCat("message exceeds the ", kMaxMessageSize, "-byte limit"));
}

// CRLFs before a message are keep-alives (RFC 3261 7.5, RFC 5626 4.4.1).
size_t SkipLeadingNewlines(absl::string_view message) {
  return std::min(message.find_first_not_of("\r\n"), message.size());
}

struct HeaderField {
  absl::string_view name;
  std::string value;  // Trimmed; folded lines joined by one SP.
};

struct MessageParts {
  absl::string_view start_line;
  std::vector<HeaderField> headers;
  absl::string_view body;
};

// Cuts `message` into start line, header fields and body (RFC 3261 7).
// Lines end in CRLF or LF; they may hold no control character but HTAB.
absl::StatusOr<MessageParts> SplitMessage(absl::string_view message) {
  if (message.size() > kMaxMessageSize) return TooLarge();
  MessageParts parts;
  size_t pos = SkipLeadingNewlines(message);
  for (int line_number = 1;; ++line_number) {  // Each pass eats a line.
    const size_t nl = message.find('\n', pos);
    if (nl == absl::string_view::npos) {
      return absl::DataLossError(
          "header section does not end with an empty line (cut short?)");
    }
    absl::string_view line = message.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (std::any_of(line.begin(), line.end(), IsControl)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, " holds a control character"));
    }
    if (line_number == 1) {
      parts.start_line = line;
    } else if (line.front() == ' ' || line.front() == '\t') {  // 7.3.1.
      if (parts.headers.empty()) {
        return absl::InvalidArgumentError(
            "continuation line before the first header");
      }
      std::string& value = parts.headers.back().value;
      if (!value.empty()) value.push_back(' ');
      absl::StrAppend(&value, absl::StripAsciiWhitespace(line));
    } else {
      const size_t colon = line.find(':');
      const absl::string_view name = absl::StripTrailingAsciiWhitespace(
          line.substr(0, std::min(colon, line.size())));
      if (colon == absl::string_view::npos || name.empty() ||
          !std::all_of(name.begin(), name.end(), IsTokenChar)) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number, " is not a header: '",
                         absl::CHexEscape(line.substr(0, 40)), "'"));
      }
      if (parts.headers.size() >= static_cast<size_t>(kMaxHeaderFields)) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", kMaxHeaderFields, " header fields"));
      }
      parts.headers.push_back(HeaderField{
          name,
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)))});
    }
  }
  parts.body = message.substr(pos);
  return parts;
}

// clang-format off
enum class Field {
  kOther, kVia, kCallId, kCSeq, kFrom, kTo, kContact, kContentLength,
  kExpires, kMinExpires, kRetryAfter, kWwwAuthenticate, kProxyAuthenticate,
  kCount,
};
// clang-format on

Field Classify(absl::string_view name) {
  static constexpr struct {
    absl::string_view name, compact;  // RFC 3261 7.3.3 compact form.
    Field field;
  } kFields[] = {
      {"Via", "v", Field::kVia},
      {"Call-ID", "i", Field::kCallId},
      {"CSeq", "", Field::kCSeq},
      {"From", "f", Field::kFrom},
      {"To", "t", Field::kTo},
      {"Contact", "m", Field::kContact},
      {"Content-Length", "l", Field::kContentLength},
      {"Expires", "", Field::kExpires},
      {"Min-Expires", "", Field::kMinExpires},
      {"Retry-After", "", Field::kRetryAfter},
      {"WWW-Authenticate", "", Field::kWwwAuthenticate},
      {"Proxy-Authenticate", "", Field::kProxyAuthenticate},
  };
  for (const auto& f : kFields) {
    if (absl::EqualsIgnoreCase(name, f.name) ||
        (!f.compact.empty() && absl::EqualsIgnoreCase(name, f.compact))) {
      return f.field;
    }
  }
  return Field::kOther;
}

bool Repeatable(Field f) {
  return f == Field::kOther || f == Field::kVia || f == Field::kContact ||
         f == Field::kWwwAuthenticate || f == Field::kProxyAuthenticate;
}

// "SIP/2.0 SP 3DIGIT SP Reason-Phrase" (RFC 3261 7.2), spaces lenient.
absl::Status ParseStatusLine(absl::string_view line, Response* r) {
  if (!absl::StartsWithIgnoreCase(line, "SIP/")) {
    const size_t space = line.find(' ');
    if (space != absl::string_view::npos &&
        absl::EndsWithIgnoreCase(line, " SIP/2.0")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message is a request (", absl::CHexEscape(line.substr(0, space)),
          "), not a response"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "bad status line '", absl::CHexEscape(line.substr(0, 40)), "'"));
  }
  // Cuts the next word off `rest`.
  auto next_word = [](absl::string_view& rest) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
    const absl::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    return word;
  };
  absl::string_view rest = line;
  const absl::string_view version = next_word(rest);
  if (!absl::EqualsIgnoreCase(version, "SIP/2.0")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported SIP version '", absl::CHexEscape(version), "'"));
  }
  const absl::string_view code = next_word(rest);
  if (code.size() != 3 ||
      !std::all_of(code.begin(), code.end(), absl::ascii_isdigit) ||
      code < "100" || code > "699") {
    return absl::InvalidArgumentError(
        absl::StrCat("status code '", absl::CHexEscape(code.substr(0, 40)),
                     "' is not a number from 100 to 699"));
  }
  r->status_code =
      (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  r->reason = std::string(absl::StripAsciiWhitespace(rest));
  return absl::OkStatus();
}

absl::Status ParseField(Field field, const HeaderField& h, Response* r) {
  auto assign = [](auto parsed, auto* out) -> absl::Status {
    if (!parsed.ok()) return parsed.status();
    *out = *std::move(parsed);
    return absl::OkStatus();
  };
  switch (field) {
    case Field::kVia:
      return ParseViaValue(h.value, &r->vias);
    case Field::kCallId:
      if (h.value.empty() ||
          h.value.find_first_of(" \t") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Call-ID: '",
            absl::CHexEscape(absl::string_view(h.value).substr(0, 40)),
            "' is not one word"));
      }
      r->call_id = h.value;
      return absl::OkStatus();
    case Field::kCSeq:
      return ParseCSeqValue(h.value, &r->cseq, &r->cseq_method);
    case Field::kFrom:
      return assign(ParseAddressTag(h.value, "From"), &r->from_tag);
    case Field::kTo:
      return assign(ParseAddressTag(h.value, "To"), &r->to_tag);
    case Field::kContact:
      return ParseContactValue(h.value, &r->contact_expires);
    case Field::kContentLength:
      return assign(ParseContentLength(h.value), &r->content_length);
    case Field::kExpires:
      return assign(ParseDeltaSeconds(h.value, "Expires", false), &r->expires);
    case Field::kMinExpires:
      return assign(ParseDeltaSeconds(h.value, "Min-Expires", false),
                    &r->min_expires);
    case Field::kRetryAfter:
      return assign(ParseDeltaSeconds(h.value, "Retry-After", true),
                    &r->retry_after);
    case Field::kWwwAuthenticate:
    case Field::kProxyAuthenticate:
      return ParseAuthenticateValue(h.value, field == Field::kProxyAuthenticate,
                                    &r->challenges);
    case Field::kOther:
    case Field::kCount:
      break;
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

absl::StatusOr<size_t> FramedMessageLength(absl::string_view buffer) {
  // Find the empty line that ends the header section; each pass eats a line.
  size_t pos = SkipLeadingNewlines(buffer);
  if (pos > kMaxMessageSize) return TooLarge();
  if (pos == buffer.size()) return 0;  // Only keep-alives so far.
  size_t header_end = absl::string_view::npos;
  for (size_t nl; (nl = buffer.find('\n', pos)) != absl::string_view::npos;
       pos = nl + 1) {
    if (nl == pos || (nl == pos + 1 && buffer[pos] == '\r')) {
      header_end = nl + 1;
      break;
    }
  }
  if (header_end == absl::string_view::npos) {
    if (buffer.size() > kMaxMessageSize) return TooLarge();
    return 0;
  }
  if (header_end > kMaxMessageSize) return TooLarge();
  auto parts = SplitMessage(buffer.substr(0, header_end));
  if (!parts.ok()) return parts.status();
  std::optional<size_t> content_length;
  for (const HeaderField& h : parts->headers) {
    if (Classify(h.name) != Field::kContentLength) continue;
    auto n = ParseContentLength(h.value);
    if (!n.ok()) return n.status();
    if (content_length.has_value() && *content_length != *n) {
      return absl::InvalidArgumentError(
          "two Content-Length headers with different values");
    }
    content_length = *n;
  }
  const size_t total = header_end + content_length.value_or(0);
  if (total > kMaxMessageSize) return TooLarge();
  return buffer.size() < total ? 0 : total;
}

absl::StatusOr<Response> ParseResponse(absl::string_view message) {
  auto parts = SplitMessage(message);
  if (!parts.ok()) return parts.status();
  Response r;
  if (auto s = ParseStatusLine(parts->start_line, &r); !s.ok()) return s;
  bool seen[static_cast<int>(Field::kCount)] = {};
  for (const HeaderField& h : parts->headers) {
    const Field field = Classify(h.name);
    bool& was_seen = seen[static_cast<int>(field)];
    if (was_seen && !Repeatable(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate ", h.name, " header"));
    }
    was_seen = true;
    if (auto s = ParseField(field, h, &r); !s.ok()) return s;
  }
  if (r.vias.empty()) return absl::InvalidArgumentError("missing Via header");
  if (!seen[static_cast<int>(Field::kCallId)]) {
    return absl::InvalidArgumentError("missing Call-ID header");
  }
  if (!seen[static_cast<int>(Field::kCSeq)]) {
    return absl::InvalidArgumentError("missing CSeq header");
  }
  if (r.content_length.has_value() && parts->body.size() < *r.content_length) {
    return absl::DataLossError(absl::StrCat(
        "body is ", parts->body.size(), " bytes, shorter than Content-Length ",
        *r.content_length));
  }
  return r;
}

}  // namespace sipresolver::sip
