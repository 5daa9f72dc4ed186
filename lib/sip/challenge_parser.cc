// The WWW-Authenticate / Proxy-Authenticate grammar (RFC 3261 20.27, 20.44;
// RFC 7235 4.1) behind ParseResponse, for challenges from servers we do not
// control. See message.h for the policy and message_parser.cc for the other
// header value grammars; the same safety rules apply: all reading goes
// through Scanner and the challenges are capped (kMaxListValues).

#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/sip/message.h"
#include "lib/sip/message_internal.h"

namespace sipresolver::sip {
namespace {

using internal::Invalid;
using internal::Quote;
using internal::Scanner;

}  // namespace

// One WWW-/Proxy-Authenticate header: one or more challenges, each a scheme
// followed by comma-separated auth-params (RFC 7235 4.1 allows several
// challenges in one header; RFC 8760 servers usually send one header each).
absl::Status ParseAuthenticateValue(absl::string_view value, bool proxy,
                                    std::vector<Challenge>* out) {
  const absl::string_view where =
      proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  Scanner sc(value);
  Challenge* current = nullptr;  // Stable: out only grows before it is set.
  bool scheme_allowed = true;    // At the start or after a comma.
  unsigned seen = 0;             // Bit per parameter below, to refuse twins.
  constexpr absl::string_view kNames[] = {"realm",     "nonce", "opaque",
                                          "algorithm", "qop",   "stale"};
  while (true) {
    sc.SkipWs();
    if (sc.done()) break;
    if (sc.Consume(',')) {
      scheme_allowed = true;
      continue;
    }
    const absl::string_view name = sc.Token();
    if (name.empty()) {
      return Invalid(where, absl::StrCat("unexpected ", Quote(sc.rest())));
    }
    sc.SkipWs();
    if (!sc.Consume('=')) {  // A new challenge: its scheme.
      if (!scheme_allowed) {
        return Invalid(where, absl::StrCat("no '=' after ", Quote(name)));
      }
      if (out->size() >= static_cast<size_t>(kMaxListValues)) {
        return Invalid(where, "too many challenges");
      }
      out->push_back(Challenge{});
      current = &out->back();
      current->proxy = proxy;
      current->scheme = std::string(name);
      scheme_allowed = false;
      seen = 0;
      continue;
    }
    if (current == nullptr) return Invalid(where, "parameter before scheme");
    scheme_allowed = false;
    sc.SkipWs();
    std::string v;
    if (sc.peek() == '"' ? !sc.QuotedString(&v)
                         : (v = std::string(sc.Until(",\""))).empty()) {
      return Invalid(where, absl::StrCat("bad value of ", Quote(name)));
    }
    sc.SkipWs();
    if (!sc.done() && sc.peek() != ',') {
      return Invalid(where, absl::StrCat("no ',' after ", Quote(name)));
    }
    for (unsigned i = 0; i < std::size(kNames); ++i) {
      if (!absl::EqualsIgnoreCase(name, kNames[i])) continue;
      if (seen & (1u << i)) {
        return Invalid(where, absl::StrCat(kNames[i], " appears twice"));
      }
      seen |= 1u << i;
    }
    if (absl::EqualsIgnoreCase(name, "realm")) current->realm = v;
    if (absl::EqualsIgnoreCase(name, "nonce")) current->nonce = v;
    if (absl::EqualsIgnoreCase(name, "opaque")) current->opaque = v;
    if (absl::EqualsIgnoreCase(name, "algorithm")) current->algorithm = v;
    if (absl::EqualsIgnoreCase(name, "stale")) {
      current->stale = absl::EqualsIgnoreCase(v, "true");
    }
    if (absl::EqualsIgnoreCase(name, "qop")) {
      for (absl::string_view q :
           absl::StrSplit(v, ',', absl::SkipWhitespace())) {
        current->qop.emplace_back(absl::StripAsciiWhitespace(q));
      }
    }
  }
  if (current == nullptr) return Invalid(where, "no auth scheme");
  return absl::OkStatus();
}

}  // namespace sipresolver::sip
