#include "tests/support/fake_dns_transport.h"

#include <algorithm>

namespace sipresolver::testing {

using dns::DnsAnswer;
using dns::RecordType;

dns::DnsAnswer AddressAnswer(const std::string& name, RecordType type,
                             const std::vector<std::string>& addresses,
                             uint32_t ttl) {
  DnsAnswer a;
  a.qname = a.canonical_name = name;
  a.qtype = type;
  for (const std::string& address : addresses) {
    a.addresses.push_back({name, address, ttl});
  }
  a.min_ttl = ttl;
  return a;
}

dns::DnsAnswer SrvAnswer(const std::string& name,
                         const std::vector<dns::SrvRecord>& records,
                         const std::vector<dns::AddressRecord>& additional) {
  DnsAnswer a;
  a.qname = a.canonical_name = name;
  a.qtype = RecordType::kSrv;
  a.srv = records;
  a.additional = additional;
  a.min_ttl = records.empty() ? 0 : records.front().ttl;
  for (const auto& r : records) a.min_ttl = std::min(a.min_ttl, r.ttl);
  return a;
}

dns::DnsAnswer CnameAnswer(const std::string& name, RecordType type,
                           const std::string& target, uint32_t ttl) {
  DnsAnswer a;
  a.qname = name;
  a.qtype = type;
  a.cname_chain = {target};
  a.canonical_name = target;
  a.min_ttl = ttl;
  return a;
}

dns::DnsAnswer NxDomain(const std::string& name, RecordType type,
                        std::optional<uint32_t> negative_ttl) {
  DnsAnswer a;
  a.rcode = dns::kRcodeNxDomain;
  a.qname = a.canonical_name = name;
  a.qtype = type;
  a.negative_ttl = negative_ttl;
  return a;
}

dns::DnsAnswer NoData(const std::string& name, RecordType type) {
  DnsAnswer a;
  a.qname = a.canonical_name = name;
  a.qtype = type;
  return a;
}

void FakeDnsTransport::Set(const std::string& name, RecordType type,
                           absl::StatusOr<DnsAnswer> answer) {
  script_.insert_or_assign({name, type}, std::move(answer));
}

absl::StatusOr<DnsAnswer> FakeDnsTransport::AnswerFor(const std::string& name,
                                                      RecordType type) const {
  auto it = script_.find({name, type});
  if (it == script_.end()) return NxDomain(name, type);
  return it->second;
}

void FakeDnsTransport::Query(const std::string& name, RecordType type,
                             Callback done) {
  log_.emplace_back(name, type);
  if (hold_) {
    held_.emplace_back(std::make_pair(name, type), std::move(done));
    return;
  }
  done(AnswerFor(name, type));
}

void FakeDnsTransport::Release() {
  hold_ = false;
  auto held = std::move(held_);
  held_.clear();
  for (auto& [key, done] : held) done(AnswerFor(key.first, key.second));
}

int FakeDnsTransport::count(const std::string& name, RecordType type) const {
  return static_cast<int>(
      std::count(log_.begin(), log_.end(), std::make_pair(name, type)));
}

}  // namespace sipresolver::testing
