// Fuzzes the single-header grammars of message.h (Via, Contact, From/To tag,
// WWW-/Proxy-Authenticate, CSeq, delta-seconds) one at a time, which reaches
// deep states faster than whole messages do. Input: one selector byte (which
// grammar, modulo 8), then the header value. Seeds in corpus/sip_header/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/sip/message.h"
#include "tests/fuzz/fuzz_check.h"

namespace sip = sipresolver::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0] % 8;
  const absl::string_view value(reinterpret_cast<const char*>(data + 1),
                                size - 1);
  const size_t kMax = static_cast<size_t>(sip::kMaxListValues);

  switch (selector) {
    case 0: {
      std::vector<sip::Via> vias;
      absl::Status s = sip::ParseViaValue(value, &vias);
      FUZZ_CHECK(vias.size() <= kMax);
      if (s.ok()) {
        FUZZ_CHECK(!vias.empty());
        // Lists append: a second value accumulates, still within the limit.
        const size_t before = vias.size();
        absl::Status again = sip::ParseViaValue(value, &vias);
        FUZZ_CHECK(vias.size() <= kMax);
        if (again.ok()) FUZZ_CHECK(vias.size() == 2 * before);
      }
      break;
    }
    case 1: {
      std::vector<std::pair<std::string, int>> contacts;
      absl::Status s = sip::ParseContactValue(value, &contacts);
      FUZZ_CHECK(contacts.size() <= kMax);
      if (s.ok()) {
        for (const auto& [uri, expires] : contacts) FUZZ_CHECK(expires >= -1);
      }
      break;
    }
    case 2:
    case 3: {
      absl::StatusOr<std::string> tag =
          sip::ParseAddressTag(value, selector == 2 ? "From" : "To");
      if (!tag.ok()) FUZZ_CHECK(absl::IsInvalidArgument(tag.status()));
      break;
    }
    case 4:
    case 5: {
      std::vector<sip::Challenge> challenges;
      absl::Status s =
          sip::ParseAuthenticateValue(value, selector == 5, &challenges);
      FUZZ_CHECK(challenges.size() <= kMax);
      if (s.ok()) {
        FUZZ_CHECK(!challenges.empty());
        for (const sip::Challenge& c : challenges) {
          FUZZ_CHECK(c.proxy == (selector == 5));
          FUZZ_CHECK(!c.scheme.empty());
        }
      }
      break;
    }
    case 6: {
      uint32_t number = 0;
      std::string method;
      absl::Status s = sip::ParseCSeqValue(value, &number, &method);
      if (s.ok()) FUZZ_CHECK(!method.empty());
      break;
    }
    case 7: {
      for (bool suffix : {false, true}) {
        absl::StatusOr<int> n =
            sip::ParseDeltaSeconds(value, "Expires", suffix);
        if (n.ok()) FUZZ_CHECK(*n >= 0);
      }
      break;
    }
  }
  return 0;
}
