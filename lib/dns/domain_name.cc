#include "lib/dns/domain_name.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sipresolver::dns {
namespace {

bool IsLabelChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

}  // namespace

absl::StatusOr<std::string> NormalizeDomainName(absl::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return absl::InvalidArgumentError("empty name");
  if (name.size() > kMaxDomainNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is ", name.size(), " characters long; the limit is ",
                     kMaxDomainNameLength));
  }
  std::string normalized = absl::AsciiStrToLower(name);
  int index = 0;
  for (absl::string_view label : absl::StrSplit(normalized, '.')) {
    ++index;
    if (label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", index, " is empty"));
    }
    if (label.size() > kMaxLabelLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label ", index, " is longer than ", kMaxLabelLength, " characters"));
    }
    for (char c : label) {
      if (!IsLabelChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("label ", index,
                         " has a character other than letters, digits, "
                         "'-' or '_'"));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", index, " starts or ends with '-'"));
    }
  }
  return normalized;
}

std::optional<std::string> ParseIpLiteral(absl::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);
  unsigned char bytes[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, copy.c_str(), bytes) == 1) {
    return std::string(inet_ntop(AF_INET, bytes, out, sizeof(out)));
  }
  if (inet_pton(AF_INET6, copy.c_str(), bytes) == 1) {
    return std::string(inet_ntop(AF_INET6, bytes, out, sizeof(out)));
  }
  return std::nullopt;
}

}  // namespace sipresolver::dns
