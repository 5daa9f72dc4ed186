// The header value grammars (RFC 3261 20, 25) behind ParseResponse, for
// values from servers we do not control: Via, Contact, From/To tags, CSeq and
// delta-seconds; the challenges are in challenge_parser.cc. See message.h for
// the policy.
//
// Safety: all reading goes through Scanner (message_internal.h), which checks
// its position against the end before every access, or through string_view
// operations that clamp. Every loop consumes input or stops; lists are capped
// (kMaxListValues), so the work and memory are linear in the value.
// ParseResponse passes values with no control character but HTAB
// (SplitMessage in message.cc).

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/sip/message.h"
#include "lib/sip/message_internal.h"

namespace sipresolver::sip {
namespace {

using internal::Invalid;
using internal::IsWs;
using internal::Quote;
using internal::Scanner;

bool IsHostChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}
bool IsIpv6Char(char c) {
  return absl::ascii_isxdigit(c) || c == ':' || c == '.';
}

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)
// lhs may be a declaration, so it cannot be put in parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN(lhs, expr)             \
  auto SIP_CONCAT_(or_, __LINE__) = (expr);     \
  if (!SIP_CONCAT_(or_, __LINE__).ok())         \
    return SIP_CONCAT_(or_, __LINE__).status(); \
  lhs = *std::move(SIP_CONCAT_(or_, __LINE__))
// NOLINTEND(bugprone-macro-parentheses)
#define SIP_CONCAT_(a, b) SIP_CONCAT_INNER_(a, b)
#define SIP_CONCAT_INNER_(a, b) a##b

// Decimal digits only, in [min, max]; max is at most UINT32_MAX, so n stays
// below 2^36 and cannot overflow.
absl::StatusOr<uint64_t> ParseNumber(absl::string_view text, uint64_t min,
                                     uint64_t max, absl::string_view where) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    return Invalid(where, absl::StrCat(Quote(text), " is not a number"));
  }
  uint64_t n = 0;
  for (char c : text) {
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max) break;
  }
  if (n < min || n > max) {
    return Invalid(
        where, absl::StrCat(Quote(text), " is out of range ", min, "-", max));
  }
  return n;
}

// ------------------------------------------------------------ parameters

struct Param {
  std::string name;  // Lower case.
  std::optional<std::string> value;
};

// *( ";" name [ "=" ( token-ish / quoted-string ) ] ), stopping before
// anything else (',' or the end, for the caller to check).
absl::Status ParseParams(Scanner& sc, absl::string_view where,
                         std::vector<Param>* params) {
  while (true) {
    sc.SkipWs();
    if (!sc.Consume(';')) return absl::OkStatus();
    if (params->size() >= static_cast<size_t>(kMaxListValues)) {
      return Invalid(where, "too many parameters");
    }
    sc.SkipWs();
    Param param{absl::AsciiStrToLower(sc.Token()), std::nullopt};
    if (param.name.empty()) return Invalid(where, "empty parameter name");
    sc.SkipWs();
    if (sc.Consume('=')) {
      sc.SkipWs();
      std::string value;
      if (sc.peek() == '"' ? !sc.QuotedString(&value)
                           : (value = std::string(sc.Until(";,\""))).empty()) {
        return Invalid(where,
                       absl::StrCat("bad value of parameter ", param.name));
      }
      param.value = std::move(value);
    }
    params->push_back(std::move(param));
  }
}

// The parameter `name`, nullptr if absent; an error if it appears twice.
absl::StatusOr<const Param*> UniqueParam(const std::vector<Param>& params,
                                         absl::string_view name,
                                         absl::string_view where) {
  const Param* found = nullptr;
  for (const Param& p : params) {
    if (p.name != name) continue;
    if (found != nullptr) {
      return Invalid(where, absl::StrCat("parameter ", name, " appears twice"));
    }
    found = &p;
  }
  return found;
}

// A parameter that must have a value when present.
absl::StatusOr<std::optional<std::string>> ParamValue(
    const std::vector<Param>& params, absl::string_view name,
    absl::string_view where) {
  ASSIGN_OR_RETURN(const Param* p, UniqueParam(params, name, where));
  if (p == nullptr) return std::optional<std::string>();
  if (!p->value.has_value()) {
    return Invalid(where, absl::StrCat("parameter ", name, " has no value"));
  }
  return p->value;
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view text,
                                   absl::string_view where) {
  ASSIGN_OR_RETURN(uint64_t port, ParseNumber(text, 1, 65535, where));
  return static_cast<uint16_t>(port);
}

// ------------------------------------------------------------------- Via

absl::Status ParseOneVia(Scanner& sc, absl::string_view where, Via* via) {
  // sent-protocol: "SIP" / "2.0" / transport, with optional LWS around '/'.
  absl::string_view parts[3];
  bool ok = true;
  for (int i = 0; i < 3; ++i) {
    sc.SkipWs();
    if (i > 0) {
      ok = ok && sc.Consume('/');
      sc.SkipWs();
    }
    parts[i] = sc.Token();
  }
  if (!ok || !absl::EqualsIgnoreCase(parts[0], "SIP") || parts[1] != "2.0" ||
      parts[2].empty()) {
    return Invalid(where, "sent-protocol is not SIP/2.0/TRANSPORT");
  }
  via->transport = absl::AsciiStrToUpper(parts[2]);
  sc.SkipWs();
  if (sc.Consume('[')) {
    via->host = std::string(sc.While(IsIpv6Char));
    if (!sc.Consume(']')) return Invalid(where, "bad IPv6 reference");
  } else {
    via->host = std::string(sc.While(IsHostChar));
  }
  if (via->host.empty()) return Invalid(where, "missing host");
  sc.SkipWs();
  if (sc.Consume(':')) {
    sc.SkipWs();
    ASSIGN_OR_RETURN(via->port, ParsePort(sc.While(absl::ascii_isdigit),
                                          absl::StrCat(where, " port")));
  }
  std::vector<Param> params;
  RETURN_IF_ERROR(ParseParams(sc, where, &params));

  ASSIGN_OR_RETURN(std::optional<std::string> branch,
                   ParamValue(params, "branch", where));
  via->branch = branch.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> received,
                   ParamValue(params, "received", where));
  if (received.has_value()) {
    absl::string_view address = *received;
    if (address.size() >= 2 && address.front() == '[' &&
        address.back() == ']') {
      address = address.substr(1, address.size() - 2);
    }
    if (address.empty()) return Invalid(where, "empty received");
    via->received = std::string(address);
  }
  ASSIGN_OR_RETURN(const Param* rport, UniqueParam(params, "rport", where));
  via->rport_present = rport != nullptr;
  if (rport != nullptr && rport->value.has_value()) {
    ASSIGN_OR_RETURN(via->rport,
                     ParsePort(*rport->value, absl::StrCat(where, " rport")));
  }
  return absl::OkStatus();
}

// ------------------------------------------------- From, To and Contact

struct NameAddr {
  std::string uri;
  std::vector<Param> params;  // Header parameters (outside <>).
};

// name-addr ( [display-name] "<" URI ">" ) or addr-spec, then parameters.
absl::Status ParseNameAddr(Scanner& sc, absl::string_view where,
                           NameAddr* out) {
  sc.SkipWs();
  if (sc.peek() == '"') {
    std::string display;
    if (!sc.QuotedString(&display)) {
      return Invalid(where, "unterminated quoted display name");
    }
    sc.SkipWs();
    if (sc.peek() != '<') return Invalid(where, "no '<' after display name");
  } else if (sc.peek() != '<') {
    // An unquoted display name ends at '<'; an addr-spec holds no '<'.
    const size_t stop = sc.rest().find_first_of("<;,\"");
    if (stop != absl::string_view::npos && sc.rest()[stop] == '<') {
      sc.Advance(stop);
    }
  }
  if (sc.Consume('<')) {
    const size_t close = sc.rest().find('>');
    if (close == absl::string_view::npos) {
      return Invalid(where, "'<' without '>'");
    }
    out->uri =
        std::string(absl::StripAsciiWhitespace(sc.rest().substr(0, close)));
    sc.Advance(close + 1);
  } else {
    out->uri = std::string(sc.Until(";,"));  // RFC 3261 20.10.
  }
  if (out->uri.empty()) return Invalid(where, "empty URI");
  return ParseParams(sc, where, &out->params);
}

}  // namespace

absl::Status ParseViaValue(absl::string_view value, std::vector<Via>* vias) {
  Scanner sc(value);
  while (true) {
    if (vias->size() >= static_cast<size_t>(kMaxListValues)) {
      return Invalid("Via",
                     absl::StrCat("more than ", kMaxListValues, " values"));
    }
    const std::string where = absl::StrCat("Via value ", vias->size() + 1);
    Via via;
    RETURN_IF_ERROR(ParseOneVia(sc, where, &via));
    vias->push_back(std::move(via));
    sc.SkipWs();
    if (sc.done()) return absl::OkStatus();
    if (!sc.Consume(',')) {
      return Invalid(where, absl::StrCat("unexpected ", Quote(sc.rest())));
    }
  }
}

absl::StatusOr<std::string> ParseAddressTag(absl::string_view value,
                                            absl::string_view where) {
  Scanner sc(value);
  NameAddr addr;
  RETURN_IF_ERROR(ParseNameAddr(sc, where, &addr));
  sc.SkipWs();
  if (!sc.done()) {
    return Invalid(where, absl::StrCat("unexpected ", Quote(sc.rest())));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> tag,
                   ParamValue(addr.params, "tag", where));
  return tag.value_or("");
}

absl::Status ParseContactValue(absl::string_view value,
                               std::vector<std::pair<std::string, int>>* out) {
  Scanner sc(value);
  while (true) {
    if (out->size() >= static_cast<size_t>(kMaxListValues)) {
      return Invalid("Contact",
                     absl::StrCat("more than ", kMaxListValues, " values"));
    }
    NameAddr addr;
    RETURN_IF_ERROR(ParseNameAddr(sc, "Contact", &addr));
    ASSIGN_OR_RETURN(std::optional<std::string> expires,
                     ParamValue(addr.params, "expires", "Contact"));
    int seconds = -1;
    if (expires.has_value()) {
      ASSIGN_OR_RETURN(uint64_t n,
                       ParseNumber(*expires, 0, INT_MAX, "Contact expires"));
      seconds = static_cast<int>(n);
    }
    out->emplace_back(std::move(addr.uri), seconds);
    sc.SkipWs();
    if (sc.done()) return absl::OkStatus();
    if (!sc.Consume(',')) {
      return Invalid("Contact", absl::StrCat("unexpected ", Quote(sc.rest())));
    }
  }
}

absl::Status ParseCSeqValue(absl::string_view value, uint32_t* number,
                            std::string* method) {
  Scanner sc(value);
  sc.SkipWs();
  ASSIGN_OR_RETURN(uint64_t n, ParseNumber(sc.While(absl::ascii_isdigit), 0,
                                           UINT32_MAX, "CSeq number"));
  *number = static_cast<uint32_t>(n);
  const bool space = IsWs(sc.peek());
  sc.SkipWs();
  *method = std::string(sc.Token());
  sc.SkipWs();
  if (!space || method->empty() || !sc.done()) {
    return Invalid("CSeq", absl::StrCat(Quote(value), " is not NUMBER METHOD"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ParseDeltaSeconds(absl::string_view value,
                                      absl::string_view where,
                                      bool allow_suffix) {
  Scanner sc(value);
  sc.SkipWs();
  const absl::string_view digits = allow_suffix
                                       ? sc.While(absl::ascii_isdigit)
                                       : absl::StripAsciiWhitespace(value);
  ASSIGN_OR_RETURN(uint64_t n, ParseNumber(digits, 0, INT_MAX, where));
  return static_cast<int>(n);
}

#undef RETURN_IF_ERROR
#undef ASSIGN_OR_RETURN
#undef SIP_CONCAT_
#undef SIP_CONCAT_INNER_

}  // namespace sipresolver::sip
