// Fuzzes BuildRequest with arbitrary field values (domain and user come from
// client profiles and the credentials file; authorization from a registrar's
// challenge). The guarantee checked: a request that is built is exactly one
// well-framed message whose header lines are the ones BuildRequest writes -
// no field can end a line, add a header or change the framing.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/sip/message.h"
#include "tests/fuzz/fuzz_check.h"

namespace sip = sipresolver::sip;

namespace {

// A short string, often one of `typical` so that most inputs get past the
// method/transport checks and into the interesting parts.
std::string Pick(FuzzedDataProvider& in,
                 std::initializer_list<const char*> typical) {
  if (in.ConsumeBool()) {
    return typical
        .begin()[in.ConsumeIntegralInRange<size_t>(0, typical.size() - 1)];
  }
  return in.ConsumeRandomLengthString(96);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  sip::RequestParams p;
  p.method = Pick(in, {"REGISTER", "OPTIONS"});
  p.transport = Pick(in, {"UDP", "tcp", "TLS"});
  p.domain = Pick(in, {"itsp.example.com", "192.0.2.1:5070", "2001:db8::1",
                       "[2001:db8::2]"});
  p.local_host = Pick(in, {"192.0.2.10", "2001:db8::10", "host.invalid"});
  p.local_port = in.ConsumeIntegral<uint16_t>();
  p.user = Pick(in, {"probe1", ""});
  p.call_id = Pick(in, {"a84b4c76e66710@sipresolver"});
  p.from_tag = Pick(in, {"1928301774"});
  p.branch = Pick(in, {"z9hG4bK776asdhds"});
  p.cseq = in.ConsumeIntegral<uint32_t>();
  p.expires = in.ConsumeIntegral<int>();
  p.user_agent = Pick(in, {"sipresolver/0.1", ""});
  p.authorization = in.ConsumeRemainingBytesAsString();

  absl::StatusOr<std::string> request = sip::BuildRequest(p);
  if (!request.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(request.status()));
    return 0;
  }
  const std::string& r = *request;
  FUZZ_CHECK(absl::StartsWith(r, p.method + " sip:"));
  FUZZ_CHECK(absl::EndsWith(r, "\r\nContent-Length: 0\r\n\r\n"));
  // CR and LF only as line ends; one empty line, at the end.
  const std::vector<absl::string_view> lines = absl::StrSplit(r, "\r\n");
  FUZZ_CHECK(lines.size() >= 3);
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last_two = i + 2 >= lines.size();
    FUZZ_CHECK(lines[i].empty() == last_two);
    for (char c : lines[i]) {
      const auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(!((u < 0x20 && c != '\t') || u == 0x7f));
    }
    // A line starting with whitespace would fold into the previous header.
    if (!lines[i].empty())
      FUZZ_CHECK(lines[i][0] != ' ' && lines[i][0] != '\t');
  }
  // The header lines are BuildRequest's own, each once.
  const char* kHeaders[] = {
      "Via:",     "Max-Forwards:", "From:",    "To:",
      "Call-ID:", "CSeq:",         "Contact:", "Content-Length:"};
  for (const char* h : kHeaders) {
    int count = 0;
    for (size_t i = 1; i + 2 < lines.size(); ++i) {
      if (absl::StartsWithIgnoreCase(lines[i], h)) ++count;
    }
    FUZZ_CHECK(count == 1);
  }
  if (r.size() <= sip::kMaxMessageSize) {
    absl::StatusOr<size_t> framed = sip::FramedMessageLength(r);
    FUZZ_CHECK(framed.ok() && *framed == r.size());
  }
  return 0;
}
