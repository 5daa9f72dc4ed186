#include "lib/sip/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sipresolver::sip {

DigestChallenge ToDigestChallenge(const Challenge& c) {
  DigestChallenge d;
  d.realm = c.realm;
  d.nonce = c.nonce;
  d.opaque = c.opaque;
  d.algorithm = c.algorithm;
  d.qop = c.qop;
  d.proxy = c.proxy;
  return d;
}
namespace {

struct Algorithm {
  absl::string_view name;
  const EVP_MD* (*md)();
  bool session;  // -sess: H(A1) also covers nonce and cnonce (RFC 7616 3.4.2).
};

constexpr Algorithm kAlgorithms[] = {
    {"MD5", EVP_md5, false},
    {"MD5-sess", EVP_md5, true},
    {"SHA-256", EVP_sha256, false},
    {"SHA-256-sess", EVP_sha256, true},
};

enum class Qop { kNone, kAuth, kAuthInt };

absl::string_view QopName(Qop qop) {
  return qop == Qop::kAuthInt ? "auth-int" : "auth";
}

// What the checks decided; the views point into the caller's challenge.
struct Plan {
  const Algorithm* algorithm = nullptr;
  absl::string_view algorithm_token;  // Echoed in the header.
  Qop qop = Qop::kNone;
};

// Holds a password-equivalent value (H(A1)) and wipes it when it goes away.
class Secret {
 public:
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret() { OPENSSL_cleanse(value_.data(), value_.size()); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  absl::string_view view() const { return value_; }

 private:
  std::string value_;
};

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// H(parts joined with ':') in lower-case hex. The parts are fed one at a time
// so that a password among them is never copied into a joined string.
absl::StatusOr<std::string> HexDigest(
    const EVP_MD* md, std::initializer_list<absl::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || md == nullptr ||
      EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return absl::InternalError(absl::StrCat(
        "OpenSSL cannot compute ", md == nullptr ? "?" : EVP_MD_get0_name(md),
        " (disabled by the crypto policy?)"));
  }
  bool first = true;
  for (absl::string_view part : parts) {
    if ((!first && EVP_DigestUpdate(ctx.get(), ":", 1) != 1) ||
        EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
      return absl::InternalError("OpenSSL digest update failed");
    }
    first = false;
  }
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), raw, &len) != 1) {
    return absl::InternalError("OpenSSL digest final failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(size_t{2} * len, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[size_t{2} * i] = kHex[raw[i] >> 4];
    hex[size_t{2} * i + 1] = kHex[raw[i] & 0xf];
  }
  OPENSSL_cleanse(raw, sizeof(raw));
  return hex;
}

// True if `value` can sit between double quotes and mean itself: no '"' to
// end the string early, no '\' to escape what follows (a receiver would
// unescape it and hash something else), no CR/LF to start a new header line,
// no other control character. HTAB and UTF-8 are allowed (RFC 3261 qdtext).
bool SafeInQuotes(absl::string_view value) {
  for (unsigned char c : value) {
    if (c == '"' || c == '\\' || c == 0x7f || (c < 0x20 && c != '\t')) {
      return false;
    }
  }
  return true;
}

// RFC 3261 25.1 token characters.
bool IsToken(absl::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("-.!%*_+`'~", c)) {
      return false;
    }
  }
  return true;
}

absl::Status CheckQuotable(absl::string_view field, absl::string_view value) {
  if (SafeInQuotes(value)) return absl::OkStatus();
  // The value itself stays out of the message: it may be a user's secret
  // mistyped into the wrong field.
  return absl::InvalidArgumentError(absl::StrCat(
      "digest ", field,
      " contains a CR, LF, '\"', '\\' or control character and cannot be "
      "sent in a quoted string"));
}

absl::StatusOr<const Algorithm*> FindAlgorithm(absl::string_view token) {
  if (token.empty()) return &kAlgorithms[0];  // RFC 7616 3.3: absent is MD5.
  for (const Algorithm& algorithm : kAlgorithms) {
    if (absl::EqualsIgnoreCase(token, algorithm.name)) return &algorithm;
  }
  return absl::UnimplementedError(
      absl::StrCat("digest algorithm \"", absl::CHexEscape(token),
                   "\" is not supported (supported: MD5, MD5-sess, SHA-256, "
                   "SHA-256-sess)"));
}

// RFC 7616 3.4: prefer "auth"; "auth-int" only when it is all there is.
// Unknown values are ignored (RFC 2617 3.2.1); if nothing known is left the
// server demands something we cannot do.
absl::StatusOr<Qop> ChooseQop(const std::vector<std::string>& offered) {
  bool any = false, auth = false, auth_int = false;
  for (const std::string& entry : offered) {
    for (absl::string_view value : absl::StrSplit(entry, ',')) {
      value = absl::StripAsciiWhitespace(value);
      if (value.empty()) continue;
      any = true;
      if (absl::EqualsIgnoreCase(value, "auth")) auth = true;
      if (absl::EqualsIgnoreCase(value, "auth-int")) auth_int = true;
    }
  }
  if (auth) return Qop::kAuth;
  if (auth_int) return Qop::kAuthInt;
  if (!any) return Qop::kNone;
  return absl::UnimplementedError(absl::StrCat(
      "digest qop \"", absl::CHexEscape(absl::StrJoin(offered, ",")),
      "\" offers neither auth nor auth-int"));
}

absl::StatusOr<Plan> MakePlan(const DigestChallenge& challenge,
                              const DigestCredentials& credentials,
                              const DigestResponseParams& params) {
  if (challenge.realm.empty()) {
    return absl::InvalidArgumentError("digest challenge has no realm");
  }
  if (challenge.nonce.empty()) {
    return absl::InvalidArgumentError("digest challenge has no nonce");
  }
  Plan plan;
  plan.algorithm_token = absl::StripAsciiWhitespace(challenge.algorithm);
  absl::StatusOr<const Algorithm*> algorithm =
      FindAlgorithm(plan.algorithm_token);
  if (!algorithm.ok()) return algorithm.status();
  plan.algorithm = *algorithm;
  // Only the server's own spelling of a name matched above is echoed, so the
  // unquoted algorithm parameter can carry nothing else.
  if (plan.algorithm_token.empty()) plan.algorithm_token = plan.algorithm->name;

  absl::StatusOr<Qop> qop = ChooseQop(challenge.qop);
  if (!qop.ok()) return qop.status();
  plan.qop = *qop;
  // A -sess H(A1) covers the cnonce, which RFC 2617 forbids sending without
  // qop: the server could not compute the same hash.
  if (plan.algorithm->session && plan.qop == Qop::kNone) {
    return absl::InvalidArgumentError(absl::StrCat(
        "digest algorithm ", plan.algorithm->name, " requires a qop"));
  }

  if (credentials.username.empty()) {
    return absl::InvalidArgumentError("digest username is empty");
  }
  if (!IsToken(params.method)) {
    return absl::InvalidArgumentError(
        "digest method must be a non-empty SIP token");
  }
  if (params.uri.empty()) {
    return absl::InvalidArgumentError("digest uri is empty");
  }
  const bool uses_cnonce = plan.qop != Qop::kNone;
  if (uses_cnonce && params.cnonce.empty()) {
    return absl::InvalidArgumentError(
        "digest cnonce is empty but the challenge asks for a qop");
  }
  if (uses_cnonce && params.nonce_count == 0) {
    return absl::InvalidArgumentError("digest nonce_count must be at least 1");
  }
  for (const auto& [field, value] :
       {std::pair<absl::string_view, absl::string_view>{"username",
                                                        credentials.username},
        {"realm", challenge.realm},
        {"nonce", challenge.nonce},
        {"uri", params.uri},
        {"cnonce",
         uses_cnonce ? absl::string_view(params.cnonce) : absl::string_view()},
        {"opaque", challenge.opaque}}) {
    absl::Status status = CheckQuotable(field, value);
    if (!status.ok()) return status;
  }
  return plan;
}

// RFC 7616 3.4.1: KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)), or
// KD(H(A1), nonce ":" H(A2)) without qop (RFC 2069). H yields lower-case hex
// everywhere, including the inner hash of a -sess A1 (RFC 7616 3.4.2; curl
// does the same). The RFC 2617 sample code, and Kamailio 5.6 after it, hash
// the raw bytes there instead; Kamailio never offers -sess, so it does not
// meet this path.
absl::StatusOr<std::string> ComputeResponse(
    const Plan& plan, const DigestChallenge& challenge,
    const DigestCredentials& credentials, const DigestResponseParams& params) {
  const EVP_MD* md = plan.algorithm->md();
  absl::StatusOr<std::string> base_hash = HexDigest(
      md, {credentials.username, challenge.realm, credentials.password});
  if (!base_hash.ok()) return base_hash.status();
  Secret base(std::move(*base_hash));
  std::optional<Secret> session;
  if (plan.algorithm->session) {
    absl::StatusOr<std::string> session_hash =
        HexDigest(md, {base.view(), challenge.nonce, params.cnonce});
    if (!session_hash.ok()) return session_hash.status();
    session.emplace(std::move(*session_hash));
  }
  const absl::string_view ha1 = session ? session->view() : base.view();

  absl::StatusOr<std::string> ha2;
  if (plan.qop == Qop::kAuthInt) {
    // No body is ever sent with a probe: H(entity-body) of "".
    absl::StatusOr<std::string> body_hash = HexDigest(md, {""});
    if (!body_hash.ok()) return body_hash.status();
    ha2 = HexDigest(md, {params.method, params.uri, *body_hash});
  } else {
    ha2 = HexDigest(md, {params.method, params.uri});
  }
  if (!ha2.ok()) return ha2.status();

  if (plan.qop == Qop::kNone) {
    return HexDigest(md, {ha1, challenge.nonce, *ha2});
  }
  const std::string nc = absl::StrFormat("%08x", params.nonce_count);
  return HexDigest(
      md, {ha1, challenge.nonce, nc, params.cnonce, QopName(plan.qop), *ha2});
}

}  // namespace

absl::StatusOr<std::string> DigestAuthorizationHeader(
    const DigestChallenge& challenge, const DigestCredentials& credentials,
    const DigestResponseParams& params) {
  absl::StatusOr<Plan> plan = MakePlan(challenge, credentials, params);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<std::string> response =
      ComputeResponse(*plan, challenge, credentials, params);
  if (!response.ok()) return response.status();

  std::string header =
      absl::StrCat(challenge.proxy ? "Proxy-Authorization" : "Authorization",
                   ": Digest username=\"", credentials.username, "\", realm=\"",
                   challenge.realm, "\", nonce=\"", challenge.nonce,
                   "\", uri=\"", params.uri, "\", response=\"", *response,
                   "\", algorithm=", plan->algorithm_token);
  if (plan->qop != Qop::kNone) {
    absl::StrAppendFormat(&header, ", cnonce=\"%s\", qop=%s, nc=%08x",
                          params.cnonce, QopName(plan->qop),
                          params.nonce_count);
  }
  if (!challenge.opaque.empty()) {
    absl::StrAppend(&header, ", opaque=\"", challenge.opaque, "\"");
  }
  return header;
}

}  // namespace sipresolver::sip
