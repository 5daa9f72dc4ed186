// Internal to lib/sip: the character classes, error helpers and the bounds-
// checked Scanner that the message code (message.cc, request.cc) and the
// header value grammars (message_parser.cc, challenge_parser.cc) share.
// Not part of the library's interface: include message.h instead.
#ifndef SIPRESOLVER_LIB_SIP_MESSAGE_INTERNAL_H_
#define SIPRESOLVER_LIB_SIP_MESSAGE_INTERNAL_H_

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sipresolver::sip::internal {

inline bool IsWs(char c) { return c == ' ' || c == '\t'; }
inline bool IsTokenChar(char c) {  // RFC 3261 25.1 token.
  return absl::ascii_isalnum(c) ||
         absl::string_view("-.!%*_+`'~").find(c) != absl::string_view::npos;
}
// Any control character but HTAB.
inline bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// Hostile input shown in an error message: short and escaped.
inline std::string Quote(absl::string_view s) {
  return absl::StrCat("'", absl::CHexEscape(s.substr(0, 40)),
                      s.size() > 40 ? "...'" : "'");
}

inline absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// Bounds-checked cursor over one header value.
class Scanner {
 public:
  explicit Scanner(absl::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void Advance(size_t n) { pos_ = std::min(text_.size(), pos_ + n); }
  absl::string_view rest() const { return text_.substr(pos_); }

  void SkipWs() {
    while (!done() && IsWs(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (done() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  template <typename Pred>
  absl::string_view While(Pred pred) {
    const size_t start = pos_;
    while (!done() && pred(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  absl::string_view Token() { return While(IsTokenChar); }
  // Up to whitespace, the end, or a character of `stops`.
  absl::string_view Until(absl::string_view stops) {
    return While([stops](char c) {
      return !IsWs(c) && stops.find(c) == absl::string_view::npos;
    });
  }
  // At '"': appends the unescaped content to `out`; false if unterminated.
  bool QuotedString(std::string* out) {
    if (!Consume('"')) return false;
    while (!done()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (done()) return false;
        c = text_[pos_++];
      }
      out->push_back(c);
    }
    return false;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace sipresolver::sip::internal

#endif  // SIPRESOLVER_LIB_SIP_MESSAGE_INTERNAL_H_
