#include "tests/support/dig.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

constexpr char kDigPath[] = "/usr/bin/dig";

// "NAME TTL CLASS TYPE RDATA...", fields separated by tabs and spaces.
absl::StatusOr<DigRecord> ParseRecord(absl::string_view line) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  DigRecord record;
  if (fields.size() < 4 || !absl::SimpleAtoi(fields[1], &record.ttl)) {
    return absl::InvalidArgumentError(
        absl::StrCat("dig output: cannot read record line \"", line, "\""));
  }
  record.name = std::string(fields[0]);
  record.type = std::string(fields[3]);
  record.data = absl::StrJoin(fields.begin() + 4, fields.end(), " ");
  return record;
}

}  // namespace

std::optional<DigRecord> DigAnswer::Soa() const {
  for (const DigRecord& r : authority) {
    if (r.type == "SOA") return r;
  }
  return std::nullopt;
}

std::optional<uint32_t> DigAnswer::NegativeTtl() const {
  std::optional<DigRecord> soa = Soa();
  if (!soa) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(soa->data, ' ', absl::SkipEmpty());
  uint32_t minimum = 0;
  if (fields.size() != 7 || !absl::SimpleAtoi(fields[6], &minimum)) {
    return std::nullopt;
  }
  return std::min(soa->ttl, minimum);
}

std::vector<std::string> DigAnswer::AnswerData(absl::string_view type) const {
  std::vector<std::string> out;
  for (const DigRecord& r : answer) {
    if (r.type == type) out.push_back(r.data);
  }
  return out;
}

std::vector<uint16_t> DigAnswer::SrvPorts() const {
  std::vector<uint16_t> ports;
  if (rcode != "NOERROR") return ports;
  for (const std::string& srv : AnswerData("SRV")) {
    const std::vector<absl::string_view> f = absl::StrSplit(srv, ' ');
    uint32_t port = 0;
    if (f.size() != 4 || !absl::SimpleAtoi(f[2], &port) || port > 65535) {
      return {};
    }
    ports.push_back(static_cast<uint16_t>(port));
  }
  return ports;
}

absl::StatusOr<DigAnswer> ParseDigOutput(absl::string_view output) {
  DigAnswer answer;
  bool have_status = false;
  std::vector<DigRecord>* section = nullptr;  // Outside any record section.
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) {
      section = nullptr;
      continue;
    }
    if (absl::ConsumePrefix(&line, ";; ->>HEADER<<-")) {
      // " opcode: QUERY, status: NOERROR, id: 36548"
      const size_t pos = line.find("status: ");
      if (pos == absl::string_view::npos) continue;
      absl::string_view rest = line.substr(pos + 8);
      answer.rcode = std::string(rest.substr(0, rest.find(',')));
      have_status = true;
      continue;
    }
    if (absl::ConsumePrefix(&line, ";; flags:")) {
      // " qr aa; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1"
      absl::string_view flags = line.substr(0, line.find(';'));
      for (absl::string_view flag :
           absl::StrSplit(flags, ' ', absl::SkipEmpty())) {
        if (flag == "aa") answer.authoritative = true;
      }
      continue;
    }
    if (line == ";; ANSWER SECTION:") {
      section = &answer.answer;
    } else if (line == ";; AUTHORITY SECTION:") {
      section = &answer.authority;
    } else if (line == ";; ADDITIONAL SECTION:") {
      section = &answer.additional;
    } else if (line[0] == ';') {
      // Other comments: question, OPT pseudo-section, statistics.
      if (absl::StartsWith(line, ";; ")) section = nullptr;
    } else if (section != nullptr) {
      absl::StatusOr<DigRecord> record = ParseRecord(line);
      if (!record.ok()) return record.status();
      section->push_back(*std::move(record));
    }
  }
  if (!have_status) {
    return absl::InvalidArgumentError(
        absl::StrCat("dig output without a status line:\n", output));
  }
  return answer;
}

absl::StatusOr<DigAnswer> Dig(uint16_t port, absl::string_view name,
                              absl::string_view type,
                              const DigOptions& options) {
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(options.timeout));
  std::vector<std::string> argv = {
      kDigPath,     "-p",       absl::StrCat(port),
      "@127.0.0.1", "+tries=1", absl::StrCat("+time=", seconds),
      "+norecurse"};
  if (options.tcp) argv.push_back("+tcp");
  argv.push_back(std::string(name));
  argv.push_back(std::string(type));
  const CommandResult result =
      RunCommand(argv, absl::Seconds(seconds) + absl::Seconds(10));
  if (result.exit_status != 0) {
    return absl::UnavailableError(
        absl::StrCat(absl::StrJoin(argv, " "), ": exit status ",
                     result.exit_status, ":\n", result.output));
  }
  return ParseDigOutput(result.output);
}

}  // namespace sipresolver::testing
