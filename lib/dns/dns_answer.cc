// Parsing of raw DNS responses (RFC 1035 4.1). See dns_answer.h.
//
// Safety: every fixed-size read goes through Reader, which checks the bound
// first. Names are decompressed by ares_expand_name, which checks each label
// and compression pointer against the whole packet and bounds pointer chains
// (so pointer loops fail instead of spinning). A name inside RDATA may still
// run past the end of that RDATA into the next record, so we check that after
// expanding it. Integers are read by Reader rather than with the macros of
// <ares_dns.h>: that header asks integrators not to use it, as it may go.
//
// Error codes: DATA_LOSS when the packet ends before a field the header or an
// RDLENGTH promised (a cut-off packet); INVALID_ARGUMENT for everything else.
// ares_expand_name cannot tell a cut-off name from a malformed one, so a bad
// name is always INVALID_ARGUMENT. Record indexes in messages count from 0.
//
// Lenient on purpose: bytes after the last record are ignored, the TC bit is
// ignored (c-ares retries over TCP itself), records of a class other than IN
// or of types we do not use are skipped without looking at their RDATA.

#include "lib/dns/dns_answer.h"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::dns {
namespace {

constexpr uint16_t kClassIn = 1;
constexpr size_t kHeaderSize = 12;
// The largest DNS message (TCP length prefix); also keeps sizes within the
// int that ares_expand_name takes.
constexpr size_t kMaxPacketSize = 65535;

// One resource record; only the RDATA of the types we use is decoded.
struct Record {
  std::string owner;
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  std::string data;  // A/AAAA: address text. CNAME/SRV: target name.
  uint16_t priority = 0, weight = 0, port = 0;  // SRV.
  uint32_t soa_minimum = 0;                     // SOA.

  bool Is(RecordType t) const {
    return rclass == kClassIn && type == static_cast<uint16_t>(t);
  }
};

// Whether `name` ends in a label separator (a dot not escaped by an odd run
// of backslashes).
bool EndsWithSeparator(const std::string& name) {
  if (name.empty() || name.back() != '.') return false;
  size_t backslashes = 0;
  for (size_t i = name.size() - 1; i > 0 && name[i - 1] == '\\'; --i)
    ++backslashes;
  return backslashes % 2 == 0;
}

// ares_expand_name gives "" for the root and never a trailing dot.
std::string NormalizeName(const char* expanded) {
  if (*expanded == '\0') return ".";
  return absl::AsciiStrToLower(expanded);
}

// Bounds-checked cursor over the packet. `where` prefixes error messages.
class Reader {
 public:
  explicit Reader(absl::Span<const uint8_t> packet) : packet_(packet) {}

  void set_where(std::string where) { where_ = std::move(where); }
  size_t pos() const { return pos_; }
  size_t remaining() const { return packet_.size() - pos_; }
  const uint8_t* here() const { return packet_.data() + pos_; }

  absl::Status Skip(absl::string_view what, size_t n) {
    if (remaining() < n) return RunsPastEnd(what);
    pos_ += n;
    return absl::OkStatus();
  }
  // Reads a big-endian uint16_t or uint32_t.
  template <typename T>
  absl::Status Read(absl::string_view what, T* v) {
    if (remaining() < sizeof(T)) return RunsPastEnd(what);
    *v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      *v = static_cast<T>(*v << 8 | packet_[pos_++]);
    }
    return absl::OkStatus();
  }
  // Expands the (possibly compressed) name at pos() and moves past it. The
  // encoded name must end at or before `limit` (the end of its RDATA).
  absl::Status Name(absl::string_view what, size_t limit, std::string* out) {
    if (remaining() == 0) return RunsPastEnd(what);
    char* expanded = nullptr;
    long enclen = 0;  // NOLINT(runtime/int): c-ares API.
    int rc =
        ares_expand_name(here(), packet_.data(),
                         static_cast<int>(packet_.size()), &expanded, &enclen);
    if (rc == ARES_ENOMEM) return absl::ResourceExhaustedError("out of memory");
    if (rc != ARES_SUCCESS) {
      return Invalid(absl::StrCat(what, " is malformed or truncated"));
    }
    const std::string text(expanded);
    ares_free_string(expanded);
    // c-ares 1.18 writes a one-byte label of 0x00 as a terminator instead of
    // escaping it, cutting the name short: "" for a name that is not the
    // root, or a trailing unescaped dot. Such a name is not the one sent.
    if ((text.empty() && *here() != 0) || EndsWithSeparator(text)) {
      return Invalid(absl::StrCat(what, " has a label holding a NUL byte"));
    }
    *out = NormalizeName(text.c_str());
    if (enclen <= 0 || limit < pos_ ||
        static_cast<size_t>(enclen) > limit - pos_) {
      return Invalid(absl::StrCat(what, " runs past end of its rdata"));
    }
    pos_ += static_cast<size_t>(enclen);
    return absl::OkStatus();
  }
  size_t end() const { return packet_.size(); }

  absl::Status RunsPastEnd(absl::string_view what) const {
    return absl::DataLossError(
        absl::StrCat(where_, ": ", what, " runs past end of packet"));
  }
  absl::Status Invalid(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", what));
  }

 private:
  absl::Span<const uint8_t> packet_;
  size_t pos_ = 0;
  std::string where_;
};

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

absl::Status ParseAddress(Reader& r, int family, uint16_t rdlength,
                          Record& rec) {
  const size_t want = family == AF_INET ? 4 : 16;
  if (rdlength != want) {
    return r.Invalid(absl::StrCat(family == AF_INET ? "A" : "AAAA",
                                  " rdlength is ", rdlength, ", want ", want));
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, r.here(), text, sizeof(text)) == nullptr) {
    return r.Invalid("address does not convert to text");
  }
  rec.data = text;
  return r.Skip("address", want);
}

// Parses one resource record at r.pos(); RDATA of other types is skipped.
absl::StatusOr<Record> ParseRecord(Reader& r) {
  Record rec;
  uint16_t rdlength = 0;
  RETURN_IF_ERROR(r.Name("owner name", r.end(), &rec.owner));
  RETURN_IF_ERROR(r.Read("type", &rec.type));
  RETURN_IF_ERROR(r.Read("class", &rec.rclass));
  RETURN_IF_ERROR(r.Read("ttl", &rec.ttl));
  RETURN_IF_ERROR(r.Read("rdlength", &rdlength));
  if (r.remaining() < rdlength) return r.RunsPastEnd("rdata");
  const size_t end = r.pos() + rdlength;

  if (rec.Is(RecordType::kA)) {
    RETURN_IF_ERROR(ParseAddress(r, AF_INET, rdlength, rec));
  } else if (rec.Is(RecordType::kAaaa)) {
    RETURN_IF_ERROR(ParseAddress(r, AF_INET6, rdlength, rec));
  } else if (rec.Is(RecordType::kCname)) {
    RETURN_IF_ERROR(r.Name("CNAME target", end, &rec.data));
  } else if (rec.Is(RecordType::kSrv)) {
    // Priority, weight and port, then at least the one byte of a root name.
    if (rdlength < 7) {
      return r.Invalid(
          absl::StrCat("SRV rdlength is ", rdlength, ", want at least 7"));
    }
    RETURN_IF_ERROR(r.Read("SRV priority", &rec.priority));
    RETURN_IF_ERROR(r.Read("SRV weight", &rec.weight));
    RETURN_IF_ERROR(r.Read("SRV port", &rec.port));
    RETURN_IF_ERROR(r.Name("SRV target", end, &rec.data));
  } else if (rec.Is(RecordType::kSoa)) {
    std::string mname, rname;
    RETURN_IF_ERROR(r.Name("SOA mname", end, &mname));
    RETURN_IF_ERROR(r.Name("SOA rname", end, &rname));
    // serial, refresh, retry, expire, minimum: five 32-bit fields.
    if (end - r.pos() < 20) return r.Invalid("SOA rdata too short");
    RETURN_IF_ERROR(r.Skip("SOA serial/refresh/retry/expire", 16));
    RETURN_IF_ERROR(r.Read("SOA minimum", &rec.soa_minimum));
  } else {
    RETURN_IF_ERROR(r.Skip("rdata", rdlength));
  }
  // Names end at or before `end`, so only a short parse is left to catch.
  if (r.pos() != end) {
    return r.Invalid(absl::StrCat("rdlength is ", rdlength, " but the ",
                                  RecordTypeName(RecordType{rec.type}),
                                  " rdata ends after ",
                                  r.pos() + rdlength - end, " bytes"));
  }
  return rec;
}

}  // namespace

absl::string_view RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kA:
      return "A";
    case RecordType::kCname:
      return "CNAME";
    case RecordType::kSoa:
      return "SOA";
    case RecordType::kAaaa:
      return "AAAA";
    case RecordType::kSrv:
      return "SRV";
  }
  return "UNKNOWN";
}

absl::StatusOr<DnsAnswer> ParseDnsAnswer(absl::Span<const uint8_t> packet,
                                         RecordType qtype) {
  if (qtype != RecordType::kA && qtype != RecordType::kAaaa &&
      qtype != RecordType::kSrv) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse answers to ", RecordTypeName(qtype), " questions"));
  }
  Reader r(packet);
  r.set_where("header");
  if (packet.size() < kHeaderSize) return r.RunsPastEnd("12-byte header");
  if (packet.size() > kMaxPacketSize) {
    return r.Invalid(absl::StrCat("packet is ", packet.size(),
                                  " bytes, more than a DNS message can be"));
  }
  const uint8_t* h = packet.data();
  if ((h[2] & 0x80) == 0) return r.Invalid("QR bit is 0: not a response");
  auto count_at = [h](int i) { return h[i] << 8 | h[i + 1]; };
  if (count_at(4) != 1) {
    return r.Invalid(absl::StrCat(count_at(4), " questions, want exactly 1"));
  }
  const char* kSections[] = {"answer", "authority", "additional"};
  for (int s = 0; s < 3; ++s) {
    // Checked up front so a lying count costs nothing.
    if (count_at(6 + 2 * s) > kMaxRecordsPerSection) {
      return r.Invalid(absl::StrCat("too many records: ", count_at(6 + 2 * s),
                                    " in ", kSections[s], " section, limit ",
                                    kMaxRecordsPerSection));
    }
  }
  RETURN_IF_ERROR(r.Skip("header", kHeaderSize));

  DnsAnswer answer;
  answer.rcode = h[3] & 0x0f;
  answer.qtype = qtype;
  r.set_where("question");
  uint16_t type = 0;
  RETURN_IF_ERROR(r.Name("name", r.end(), &answer.qname));
  RETURN_IF_ERROR(r.Read("type", &type));
  RETURN_IF_ERROR(r.Skip("class", 2));
  if (type != static_cast<uint16_t>(qtype)) {
    return r.Invalid(absl::StrCat("type ", type, " does not match the ",
                                  RecordTypeName(qtype), " that was asked"));
  }

  std::vector<Record> sections[3];
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < count_at(6 + 2 * s); ++i) {
      r.set_where(absl::StrCat(kSections[s], " record ", i));
      absl::StatusOr<Record> rec = ParseRecord(r);
      if (!rec.ok()) return rec.status();
      sections[s].push_back(*std::move(rec));
    }
  }
  const std::vector<Record>& answers = sections[0];

  // Follow CNAMEs from qname. A loop or a chain longer than kMaxCnameChain is
  // an error rather than a cut-short chain: a caller that saw a dangling
  // CNAME would look the name up again and meet the same loop.
  std::optional<uint32_t> min_ttl;
  auto note_ttl = [&min_ttl](uint32_t ttl) {
    min_ttl = std::min(min_ttl.value_or(ttl), ttl);
  };
  r.set_where("answer");
  std::string name = answer.qname;
  for (;;) {
    auto cname =
        std::find_if(answers.begin(), answers.end(), [&](const Record& rec) {
          return rec.Is(RecordType::kCname) && rec.owner == name;
        });
    if (cname == answers.end()) break;
    const std::string& target = cname->data;
    if (target == answer.qname ||
        std::find(answer.cname_chain.begin(), answer.cname_chain.end(),
                  target) != answer.cname_chain.end()) {
      return r.Invalid(absl::StrCat("CNAME loop at ", target));
    }
    if (answer.cname_chain.size() >= static_cast<size_t>(kMaxCnameChain)) {
      return r.Invalid(
          absl::StrCat("CNAME chain longer than ", kMaxCnameChain));
    }
    answer.cname_chain.push_back(target);
    note_ttl(cname->ttl);
    name = target;
  }
  answer.canonical_name = name;

  for (const Record& rec : answers) {
    if (rec.owner != answer.canonical_name || !rec.Is(qtype)) continue;
    note_ttl(rec.ttl);
    if (qtype == RecordType::kSrv) {
      answer.srv.push_back(
          SrvRecord{rec.data, rec.priority, rec.weight, rec.port, rec.ttl});
    } else {
      answer.addresses.push_back(AddressRecord{rec.owner, rec.data, rec.ttl});
    }
  }
  answer.min_ttl = min_ttl.value_or(0);

  for (const Record& rec : sections[1]) {
    if (rec.Is(RecordType::kSoa)) {
      answer.negative_ttl = std::min(rec.ttl, rec.soa_minimum);
      break;
    }
  }
  for (const Record& rec : sections[2]) {
    if (rec.Is(RecordType::kA) || rec.Is(RecordType::kAaaa)) {
      answer.additional.push_back(AddressRecord{rec.owner, rec.data, rec.ttl});
    }
  }
  return answer;
}

#undef RETURN_IF_ERROR

}  // namespace sipresolver::dns
