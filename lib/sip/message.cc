// Cutting messages into start line, headers and body (ParseResponse, and
// FramedMessageLength for streams). See message.h; requests are built in
// request.cc, the header value grammars are in message_parser.cc and
// challenge_parser.cc.

#include "lib/sip/message.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/sip/message_internal.h"

namespace sipresolver::sip {
namespace {

using internal::IsControl;
using internal::IsTokenChar;

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
