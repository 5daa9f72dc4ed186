// Fuzzes what a registrar's reply goes through: FramedMessageLength (stream
// framing), ParseResponse, and for a 401/407 the digest answer and the
// retried REGISTER built from the challenge. Checks the guarantees of
// message.h and digest.h on top of the sanitizers:
//   - every extracted value is in range and free of control characters;
//   - the framer and the parser agree: a prefix the framer calls a complete
//     message is never "incomplete" (DATA_LOSS) to the parser;
//   - nothing in a challenge can add a header line to the retried request or
//     make the password appear in it (the request frames as one message of
//     exactly its own length).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "lib/sip/digest.h"
#include "lib/sip/message.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace sip = sipresolver::sip;

constexpr char kPassword[] = "fuzz-Secret-Passw0rd";

bool NoControl(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

void CheckResponse(const sip::Response& r) {
  FUZZ_CHECK(r.status_code >= 100 && r.status_code <= 699);
  FUZZ_CHECK(NoControl(r.reason));
  FUZZ_CHECK(!r.vias.empty());
  FUZZ_CHECK(r.vias.size() <= static_cast<size_t>(sip::kMaxListValues));
  for (const sip::Via& v : r.vias) {
    FUZZ_CHECK(!v.transport.empty() && !v.host.empty());
    FUZZ_CHECK(v.transport == absl::AsciiStrToUpper(v.transport));
    FUZZ_CHECK(NoControl(v.transport) && NoControl(v.host) &&
               NoControl(v.branch));
    if (v.received) FUZZ_CHECK(NoControl(*v.received));
    if (v.rport) FUZZ_CHECK(v.rport_present);
  }
  FUZZ_CHECK(!r.call_id.empty() && NoControl(r.call_id));
  FUZZ_CHECK(!r.cseq_method.empty() && NoControl(r.cseq_method));
  FUZZ_CHECK(NoControl(r.from_tag) && NoControl(r.to_tag));
  FUZZ_CHECK(r.challenges.size() <= static_cast<size_t>(sip::kMaxListValues));
  for (const sip::Challenge& c : r.challenges) {
    FUZZ_CHECK(!c.scheme.empty());
    for (const std::string* s :
         {&c.scheme, &c.realm, &c.nonce, &c.opaque, &c.algorithm}) {
      FUZZ_CHECK(NoControl(*s));
    }
    for (const std::string& q : c.qop) FUZZ_CHECK(NoControl(q));
  }
  FUZZ_CHECK(r.contact_expires.size() <=
             static_cast<size_t>(sip::kMaxListValues));
  for (const auto& [uri, expires] : r.contact_expires) {
    FUZZ_CHECK(NoControl(uri));
    FUZZ_CHECK(expires >= -1);
  }
  for (const auto* v : {&r.expires, &r.min_expires, &r.retry_after}) {
    if (v->has_value()) FUZZ_CHECK(**v >= 0);
  }
  if (r.content_length) FUZZ_CHECK(*r.content_length <= sip::kMaxMessageSize);
}

// What SipProber does with a challenge: answer it and retry the REGISTER.
void AnswerChallenge(const sip::Challenge& c) {
  const sip::DigestChallenge d = sip::ToDigestChallenge(c);
  sip::RequestParams p;
  p.method = "REGISTER";
  p.domain = "itsp.example.com";
  p.transport = "TCP";
  p.local_host = "192.0.2.10";
  p.local_port = 5060;
  p.user = "probe1";
  p.call_id = "a84b4c76e66710@sipresolver";
  p.from_tag = "1928301774";
  p.branch = "z9hG4bK776asdhds";
  p.cseq = 2;
  p.expires = 0;
  absl::StatusOr<std::string> header = sip::DigestAuthorizationHeader(
      d, sip::DigestCredentials{"probe1", kPassword},
      sip::DigestResponseParams{"REGISTER", sip::RequestUri(p), "0a4f113b", 1});
  if (!header.ok()) {
    FUZZ_CHECK(
        !absl::StrContains(header.status().message(), kPassword) ||
        absl::StrContains(
            absl::string_view(c.realm + c.nonce + c.opaque + c.algorithm),
            kPassword) ||
        std::any_of(c.qop.begin(), c.qop.end(), [](const std::string& q) {
          return absl::StrContains(q, kPassword);
        }));
    return;
  }
  FUZZ_CHECK(NoControl(*header));
  // Unless the registrar itself sent the password's text back in a value.
  bool echoed = false;
  for (const std::string* v : {&c.realm, &c.nonce, &c.opaque, &c.algorithm}) {
    echoed = echoed || absl::StrContains(*v, kPassword);
  }
  for (const std::string& q : c.qop)
    echoed = echoed || absl::StrContains(q, kPassword);
  if (!echoed) FUZZ_CHECK(!absl::StrContains(*header, kPassword));
  FUZZ_CHECK(absl::StartsWith(
      *header, c.proxy ? "Proxy-Authorization: " : "Authorization: "));
  p.authorization = *header;
  absl::StatusOr<std::string> request = sip::BuildRequest(p);
  FUZZ_CHECK(request.ok());
  absl::StatusOr<size_t> framed = sip::FramedMessageLength(*request);
  if (request->size() <= sip::kMaxMessageSize) {
    FUZZ_CHECK(framed.ok() && *framed == request->size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<size_t> framed = sip::FramedMessageLength(input);
  if (framed.ok() && *framed > 0) {
    FUZZ_CHECK(*framed <= input.size());
    FUZZ_CHECK(*framed <= sip::kMaxMessageSize);
    absl::StatusOr<sip::Response> first =
        sip::ParseResponse(input.substr(0, *framed));
    FUZZ_CHECK(first.ok() || !absl::IsDataLoss(first.status()));
  }

  absl::StatusOr<sip::Response> response = sip::ParseResponse(input);
  if (!response.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(response.status()) ||
               absl::IsDataLoss(response.status()));
    return 0;
  }
  FUZZ_CHECK(size <= sip::kMaxMessageSize);
  CheckResponse(*response);
  for (const sip::Challenge& c : response->challenges) {
    if (absl::EqualsIgnoreCase(c.scheme, "Digest")) AnswerChallenge(c);
  }
  return 0;
}
