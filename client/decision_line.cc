#include "client/decision_line.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/hook_contract.h"

namespace sipresolver::cli {
namespace {

// HOST:PORT (an IPv6 address in brackets), then the DNS name it came from.
std::string Where(const v1::Candidate& c) {
  const bool v6 = c.address().find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", c.address(), v6 ? "]" : "", ":", c.port(),
                      c.target().empty() || c.target() == c.address()
                          ? ""
                          : absl::StrCat(" (", c.target(), ")"));
}

}  // namespace

std::string FormatDecisionLine(const v1::Decision& d) {
  std::vector<std::string> parts;
  if (d.has_primary())
    parts.push_back(absl::StrCat("primary ", Where(d.primary())));
  if (d.has_secondary())
    parts.push_back(absl::StrCat("secondary ", Where(d.secondary())));
  if (d.primary_fallback_size() > 0) {
    parts.push_back(absl::StrCat(
        "fallback ",
        absl::StrJoin(d.primary_fallback(), " ",
                      [](std::string* out, const v1::Candidate& c) {
                        out->append(Where(c));
                      })));
  }
  if (d.has_keep_alive_target()) {
    parts.push_back(absl::StrCat("keep-alive ", d.keep_alive_target().address(),
                                 ":", d.keep_alive_target().port()));
  }
  // Fail static: say when the service could not confirm the primary.
  const std::string assurance = AssuranceName(d.assurance());
  const std::string qualifier =
      assurance == "unconfirmed" ? " (unconfirmed: the device's own choice)"
      : assurance == "device_reports"
          ? " (confirmed by device reports; probes fail)"
          : "";
  return absl::StrCat(
      "v", d.version(), " ",
      absl::StrReplaceAll(StateName(d.state()), {{"_", " "}}), qualifier,
      parts.empty() ? "" : ": ", absl::StrJoin(parts, ", "),
      d.reason().empty() ? "" : absl::StrCat(" - ", d.reason()), "\n");
}

}  // namespace sipresolver::cli
