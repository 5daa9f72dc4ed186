#include "server/roles.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sipresolver::server {
namespace {

constexpr size_t kMaxPatternLength = 253;

// Glob match with "*" only, iterative (no backtracking blow-up).
bool Matches(absl::string_view pattern, absl::string_view text) {
  size_t p = 0, t = 0, star = absl::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

class Enforcer : public grpc::AuthMetadataProcessor {
 public:
  explicit Enforcer(RolePolicy policy) : policy_(std::move(policy)) {}
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata,
                       grpc::AuthContext* context, OutputMetadata*,
                       OutputMetadata*) override {
    auto path = metadata.find(":path");
    if (path == metadata.end()) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "no method named in the call");
    }
    absl::Status s = policy_.Check(
        absl::string_view(path->second.data(), path->second.size()),
        CertificateIdentities(*context));
    if (s.ok()) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        std::string(s.message()));
  }

 private:
  const RolePolicy policy_;
};

}  // namespace

absl::StatusOr<RolePolicy> RolePolicy::Parse(absl::string_view flag_value) {
  RolePolicy policy;
  for (absl::string_view raw : absl::StrSplit(flag_value, ',')) {
    absl::string_view pattern = absl::StripAsciiWhitespace(raw);
    if (pattern.empty()) continue;
    if (pattern.size() > kMaxPatternLength ||
        pattern.find_first_not_of('*') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("operator_identities: \"", absl::CHexEscape(pattern),
                       "\" must name certificates (a pattern of at most ",
                       kMaxPatternLength, " characters, not only \"*\")"));
    }
    policy.patterns_.emplace_back(pattern);
  }
  return policy;
}

bool RolePolicy::IsOperator(const std::vector<std::string>& identities) const {
  for (const std::string& id : identities) {
    for (const std::string& pattern : patterns_) {
      if (Matches(pattern, id)) return true;
    }
  }
  return false;
}

absl::Status RolePolicy::Check(
    absl::string_view method,
    const std::vector<std::string>& identities) const {
  if (!IsOperatorMethod(method) || IsOperator(identities)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      method, " is for operators: this client's certificate (",
      identities.empty() ? "no identity" : absl::StrJoin(identities, ", "),
      ") matches no --operator_identities pattern",
      patterns_.empty() ? " (none set)" : ""));
}

std::vector<std::string> CertificateIdentities(const grpc::AuthContext& auth) {
  std::vector<std::string> identities;
  if (!auth.IsPeerAuthenticated()) return identities;
  for (const grpc::string_ref& id : auth.GetPeerIdentity()) {
    identities.emplace_back(id.data(), id.size());
  }
  return identities;
}

bool IsOperatorMethod(absl::string_view method) {
  return method == "/sipresolver.v1.SipResolver/ListServers" ||
         absl::StartsWith(method, "/grpc.reflection.");
}

std::shared_ptr<grpc::AuthMetadataProcessor> RoleEnforcer(RolePolicy policy) {
  return std::make_shared<Enforcer>(std::move(policy));
}

}  // namespace sipresolver::server
