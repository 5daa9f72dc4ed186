#include "lib/health/credentials.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/dns/domain_name.h"

namespace sipresolver::health {

absl::StatusOr<CredentialStore> CredentialStore::Parse(absl::string_view text) {
  CredentialStore store;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    // DOMAIN and USERNAME end at a blank; PASSWORD is the rest.
    absl::string_view fields[3];
    for (int i = 0; i < 2; ++i) {
      const size_t end = std::min(line.find_first_of(" \t"), line.size());
      fields[i] = line.substr(0, end);
      line = absl::StripLeadingAsciiWhitespace(line.substr(end));
    }
    fields[2] = line;
    if (fields[2].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("probe credentials line ", line_number,
                       ": want \"DOMAIN USERNAME PASSWORD\" (the password is "
                       "the rest of the line)"));
    }
    auto domain = dns::NormalizeDomainName(fields[0]);
    if (!domain.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("probe credentials line ", line_number,
                       ": domain: ", domain.status().message()));
    }
    if (!store.by_domain_
             .emplace(*domain, sip::Credentials{std::string(fields[1]),
                                                std::string(fields[2])})
             .second) {
      return absl::InvalidArgumentError(absl::StrCat("probe credentials line ",
                                                     line_number, ": ", *domain,
                                                     " is given twice"));
    }
  }
  return store;
}

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("probe_credentials_file: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();  // Sets failbit on text, harmlessly, for an empty file.
  return text.str();
}

}  // namespace

absl::StatusOr<CredentialsFile> CredentialsFile::Load(std::string path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<CredentialStore> store = CredentialStore::Parse(*text);
  if (!store.ok()) return store.status();
  return CredentialsFile(std::move(path), *std::move(text), *std::move(store));
}

absl::StatusOr<std::optional<CredentialStore>> CredentialsFile::Reload() {
  absl::StatusOr<std::string> text = ReadFile(path_);
  if (!text.ok()) return text.status();
  if (*text == text_) return std::nullopt;
  absl::StatusOr<CredentialStore> store = CredentialStore::Parse(*text);
  if (!store.ok()) return store.status();
  text_ = *std::move(text);
  store_ = *store;
  return *std::move(store);
}

std::optional<sip::Credentials> CredentialStore::Find(
    absl::string_view domain) const {
  auto it = by_domain_.find(domain);
  if (it == by_domain_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sipresolver::health
