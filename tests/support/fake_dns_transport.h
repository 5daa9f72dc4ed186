// FakeDnsTransport: a DnsTransport for unit tests. Answers come from a
// script set by the test, either at once or when the test releases them
// (to test joining of in-flight queries). Names without a scripted answer
// get NXDOMAIN. Single-threaded, like the loop it stands in for.
#ifndef SIPRESOLVER_TESTS_SUPPORT_FAKE_DNS_TRANSPORT_H_
#define SIPRESOLVER_TESTS_SUPPORT_FAKE_DNS_TRANSPORT_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/dns/dns_transport.h"

namespace sipresolver::testing {

// Answer builders. TTLs in seconds.
dns::DnsAnswer AddressAnswer(const std::string& name, dns::RecordType type,
                             const std::vector<std::string>& addresses,
                             uint32_t ttl);
dns::DnsAnswer SrvAnswer(
    const std::string& name, const std::vector<dns::SrvRecord>& records,
    const std::vector<dns::AddressRecord>& additional = {});
dns::DnsAnswer CnameAnswer(const std::string& name, dns::RecordType type,
                           const std::string& target, uint32_t ttl);
dns::DnsAnswer NxDomain(const std::string& name, dns::RecordType type,
                        std::optional<uint32_t> negative_ttl = std::nullopt);
dns::DnsAnswer NoData(const std::string& name, dns::RecordType type);

class FakeDnsTransport : public dns::DnsTransport {
 public:
  void Set(const std::string& name, dns::RecordType type,
           absl::StatusOr<dns::DnsAnswer> answer);
  // While held, queries wait until Release().
  void Hold() { hold_ = true; }
  void Release();

  void Query(const std::string& name, dns::RecordType type,
             Callback done) override;

  // Queries sent so far for (name, type), and in total.
  int count(const std::string& name, dns::RecordType type) const;
  int total() const { return static_cast<int>(log_.size()); }
  const std::vector<std::pair<std::string, dns::RecordType>>& log() const {
    return log_;
  }

 private:
  absl::StatusOr<dns::DnsAnswer> AnswerFor(const std::string& name,
                                           dns::RecordType type) const;

  std::map<std::pair<std::string, dns::RecordType>,
           absl::StatusOr<dns::DnsAnswer>>
      script_;
  std::vector<std::pair<std::string, dns::RecordType>> log_;
  std::vector<std::pair<std::pair<std::string, dns::RecordType>, Callback>>
      held_;
  bool hold_ = false;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_FAKE_DNS_TRANSPORT_H_
