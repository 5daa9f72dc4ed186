#include "lib/dns/device_resolver.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/dns/domain_name.h"
#include "lib/dns/srv_order.h"

namespace sipresolver::dns {
namespace {

constexpr absl::string_view kSipUdpPrefix = "_sip._udp.";

std::vector<RecordType> AddressTypes(IpVersion version) {
  switch (version) {
    case IpVersion::kV4:
      return {RecordType::kA};
    case IpVersion::kV6:
      return {RecordType::kAaaa};
    case IpVersion::kDual:
      return {RecordType::kA, RecordType::kAaaa};
  }
  return {RecordType::kA};
}

bool IsNoServiceTarget(const SrvRecord& r) { return r.target == "."; }

bool AddressMatches(const AddressRecord& r, RecordType type) {
  const bool v6 = r.address.find(':') != std::string::npos;
  return v6 == (type == RecordType::kAaaa);
}

}  // namespace

uint16_t DefaultPort(Transport transport) {
  return transport == Transport::kTls ? 5061 : 5060;
}

absl::Status ValidateServerSpec(const ServerSpec& spec) {
  if (spec.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port: ", spec.port, " is above 65535"));
  }
  if (spec.server.empty()) {
    return absl::InvalidArgumentError("server: must not be empty");
  }
  if (ParseIpLiteral(spec.server)) {
    if (spec.redundancy) {
      return absl::InvalidArgumentError(
          "redundancy: needs the server configured as a domain name, not an "
          "IP address (S5)");
    }
    return absl::OkStatus();
  }
  if (auto name = NormalizeDomainName(spec.server); !name.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("server: ", name.status().message()));
  }
  return absl::OkStatus();
}

// One Resolve request walking R1's steps. Owned by the callbacks it has
// outstanding (shared_ptr), so it lives exactly as long as it has work.
class DeviceResolver::Job : public std::enable_shared_from_this<Job> {
 public:
  Job(CachingResolver& dns, Random& random, std::string name, uint16_t port,
      const ServerSpec& spec, Callback done)
      : dns_(dns),
        random_(random),
        name_(std::move(name)),
        port_(port),
        spec_(spec),
        done_(std::move(done)) {}

  void Start() { LookupAddresses(); }

 private:
  // Seconds left of a record's `ttl` in an answer cached for `age`.
  static uint32_t LeftOf(uint32_t ttl, absl::Duration age) {
    const int64_t left = ttl - absl::ToInt64Seconds(age);
    return left > 0 ? static_cast<uint32_t>(left) : 0;
  }

  // A lookup's final result, after following dangling CNAMEs, with the
  // smallest TTL seen along the chain.
  struct Followed {
    QueryResult result;
    absl::Duration ttl;
  };
  using Query = std::pair<std::string, RecordType>;
  // SRV target -> its addresses, each with the TTL it may be used for.
  using TargetAddresses = absl::flat_hash_map<
      std::string, std::vector<std::pair<AddressRecord, absl::Duration>>>;
  using GatherCallback = absl::AnyInvocable<void(std::vector<Followed>)>;

  // R1 step 1: the name's address records.
  void LookupAddresses() {
    std::vector<Query> queries;
    for (RecordType type : AddressTypes(spec_.ip_version)) {
      queries.emplace_back(name_, type);
    }
    LookupAll(std::move(queries), [self = shared_from_this()](
                                      const std::vector<Followed>& results) {
      self->OnAddresses(results);
    });
  }

  void OnAddresses(const std::vector<Followed>& results) {
    bool unavailable = false;
    for (const Followed& f : results) {
      if (!f.result.status.ok()) {
        unavailable = true;
        continue;
      }
      const bool v6 = f.result.answer->qtype == RecordType::kAaaa;
      for (const AddressRecord& a : f.result.answer->addresses) {
        resolution_.candidates.push_back(Candidate{
            name_, a.address, port_, 0, 0,
            v6 ? CandidateSource::kAaaa : CandidateSource::kA, f.ttl});
      }
    }
    if (!resolution_.candidates.empty()) return Finish(absl::OkStatus());
    if (unavailable) return FinishUnavailable();
    LookupSrv(name_, CandidateSource::kSrv);  // R1 step 2.
  }

  // R1 steps 2 and 3.
  void LookupSrv(const std::string& name, CandidateSource source) {
    Lookup(name, RecordType::kSrv, 0, absl::InfiniteDuration(),
           [self = shared_from_this(), name, source](const Followed& f) {
             self->OnSrv(name, source, f);
           });
  }

  void OnSrv(const std::string& name, CandidateSource source,
             const Followed& f) {
    if (!f.result.status.ok()) return FinishUnavailable();
    const DnsAnswer& answer = *f.result.answer;
    if (answer.srv.empty()) {
      if (source == CandidateSource::kSrv) {
        auto prefixed = NormalizeDomainName(absl::StrCat(kSipUdpPrefix, name_));
        if (prefixed.ok()) {
          return LookupSrv(*prefixed, CandidateSource::kSrvSipUdp);
        }
      }
      return Finish(absl::NotFoundError(
          absl::StrCat("no A record, SRV record or ", kSipUdpPrefix,
                       " SRV record for ", name_, " (R1)")));
    }
    std::vector<SrvRecord> offered;
    for (const SrvRecord& r : answer.srv) {
      if (!IsNoServiceTarget(r)) offered.push_back(r);
    }
    if (offered.empty()) {
      return Finish(absl::NotFoundError(absl::StrCat(
          "SRV ", name, " says the service is not offered (target \".\")")));
    }
    ResolveTargets(OrderSrvRecords(std::move(offered), random_), answer, f.ttl,
                   f.result.age, source);
  }

  // R2/R3: every SRV target's addresses, from the additional section when
  // the answer carried them and their own TTL is not over (`age`: how long
  // the answer has been cached), else by a lookup of their own.
  void ResolveTargets(std::vector<SrvRecord> ordered, const DnsAnswer& answer,
                      absl::Duration srv_ttl, absl::Duration age,
                      CandidateSource source) {
    auto addresses = std::make_shared<TargetAddresses>();
    std::vector<Query> queries;
    for (const SrvRecord& r : ordered) {
      if (addresses->contains(r.target)) continue;
      if (static_cast<int>(addresses->size()) >= kMaxSrvTargets) break;
      auto& list = (*addresses)[r.target];
      for (RecordType type : AddressTypes(spec_.ip_version)) {
        const size_t before = list.size();
        absl::Duration ttl = srv_ttl;
        for (const AddressRecord& a : answer.additional) {
          const uint32_t left = LeftOf(a.ttl, age);
          if (a.name == r.target && AddressMatches(a, type) && left > 0) {
            ttl = std::min(ttl, absl::Seconds(left));
            list.emplace_back(a, std::min(srv_ttl, absl::Seconds(left)));
          }
        }
        if (list.size() == before) {
          queries.emplace_back(r.target, type);
        } else {
          resolution_.lookups.push_back(
              LookupRecord{r.target, type, LookupOutcome::kAnswer, ttl, true,
                           false, static_cast<int>(list.size() - before),
                           "from the additional section of the SRV answer"});
        }
      }
    }
    std::vector<Query> asked = queries;
    LookupAll(std::move(queries),
              [self = shared_from_this(), ordered = std::move(ordered),
               asked = std::move(asked), addresses, srv_ttl,
               source](const std::vector<Followed>& results) {
                self->OnTargets(ordered, asked, results, *addresses, srv_ttl,
                                source);
              });
  }

  void OnTargets(const std::vector<SrvRecord>& ordered,
                 const std::vector<Query>& asked,
                 const std::vector<Followed>& results,
                 TargetAddresses& addresses, absl::Duration srv_ttl,
                 CandidateSource source) {
    bool unavailable = false;
    for (size_t i = 0; i < results.size(); ++i) {
      const Followed& f = results[i];
      if (!f.result.status.ok()) {
        unavailable = true;
        continue;
      }
      for (const AddressRecord& a : f.result.answer->addresses) {
        addresses[asked[i].first].emplace_back(a, std::min(srv_ttl, f.ttl));
      }
    }
    for (const SrvRecord& r : ordered) {
      auto it = addresses.find(r.target);
      if (it == addresses.end()) continue;
      for (const auto& [a, ttl] : it->second) {
        resolution_.candidates.push_back(
            Candidate{r.target, a.address, r.port, r.priority, r.weight, source,
                      std::min(ttl, absl::Seconds(r.ttl))});
      }
    }
    if (!resolution_.candidates.empty()) return Finish(absl::OkStatus());
    if (unavailable) return FinishUnavailable();
    Finish(absl::NotFoundError(
        absl::StrCat("the SRV targets for ", name_, " have no addresses")));
  }

  // Runs `queries` concurrently; `next` gets their results in query order.
  void LookupAll(std::vector<Query> queries, GatherCallback next) {
    struct Gather {
      std::vector<Followed> results;
      size_t pending;
      GatherCallback next;
    };
    auto gather =
        std::make_shared<Gather>(Gather{std::vector<Followed>(queries.size()),
                                        queries.size(), std::move(next)});
    if (queries.empty()) return gather->next({});
    for (size_t i = 0; i < queries.size(); ++i) {
      Lookup(queries[i].first, queries[i].second, 0, absl::InfiniteDuration(),
             [gather, i](Followed f) {
               gather->results[i] = std::move(f);
               if (--gather->pending == 0) {
                 gather->next(std::move(gather->results));
               }
             });
    }
  }

  // One query; a CNAME whose target the answer did not include is followed
  // with a query of its own, at most kMaxCnameLookups deep.
  void Lookup(const std::string& name, RecordType type, int depth,
              absl::Duration ttl_so_far,
              absl::AnyInvocable<void(Followed)> next) {
    auto self = shared_from_this();
    dns_.Query(name, type,
               [self, name, type, depth, ttl_so_far,
                next = std::move(next)](const QueryResult& r) mutable {
                 self->Record(name, type, r);
                 const absl::Duration ttl =
                     std::min(ttl_so_far, r.remaining_ttl);
                 if (r.status.ok() && r.answer->dangling_cname() &&
                     depth + 1 < kMaxCnameLookups) {
                   return self->Lookup(r.answer->canonical_name, type,
                                       depth + 1, ttl, std::move(next));
                 }
                 next(Followed{r, ttl});
               });
  }

  void Record(const std::string& name, RecordType type, const QueryResult& r) {
    LookupRecord rec{name,
                     type,
                     LookupOutcome::kUnavailable,
                     r.remaining_ttl,
                     r.from_cache,
                     r.stale,
                     0,
                     ""};
    if (!r.status.ok()) {
      rec.detail = std::string(r.status.message());
    } else {
      const DnsAnswer& a = *r.answer;
      rec.record_count = static_cast<int>(a.addresses.size() + a.srv.size());
      if (a.dangling_cname()) {
        rec.type = RecordType::kCname;
        rec.outcome = LookupOutcome::kAnswer;
        rec.record_count = static_cast<int>(a.cname_chain.size());
      } else if (!a.srv.empty() &&
                 std::all_of(a.srv.begin(), a.srv.end(), IsNoServiceTarget)) {
        rec.outcome = LookupOutcome::kNoService;
      } else if (!a.empty()) {
        rec.outcome = LookupOutcome::kAnswer;
      } else {
        rec.outcome = a.rcode == kRcodeNxDomain ? LookupOutcome::kNxDomain
                                                : LookupOutcome::kNoData;
      }
      if (!a.cname_chain.empty()) {
        rec.detail = absl::StrCat("CNAME ", name, " -> ",
                                  absl::StrJoin(a.cname_chain, " -> "));
      }
    }
    resolution_.lookups.push_back(std::move(rec));
  }

  void FinishUnavailable() {
    Finish(absl::UnavailableError(
        absl::StrCat("DNS failed for ", name_, " and no answer was cached")));
  }

  void Finish(absl::Status status) {
    if (!spec_.redundancy && resolution_.candidates.size() > 1) {
      resolution_.candidates.resize(1);  // S4: one address, no other tried.
    }
    done_(std::move(status), std::move(resolution_));
  }

  CachingResolver& dns_;
  Random& random_;
  const std::string name_;
  const uint16_t port_;
  const ServerSpec spec_;
  Callback done_;
  Resolution resolution_;
};

void DeviceResolver::Resolve(const ServerSpec& spec, Callback done) {
  if (absl::Status valid = ValidateServerSpec(spec); !valid.ok()) {
    return done(std::move(valid), Resolution{});
  }
  const uint16_t port = spec.port != 0 ? static_cast<uint16_t>(spec.port)
                                       : DefaultPort(spec.transport);
  if (auto literal = ParseIpLiteral(spec.server)) {  // R4.
    Resolution resolution;
    resolution.candidates.push_back(Candidate{*literal, *literal, port, 0, 0,
                                              CandidateSource::kIpLiteral,
                                              absl::ZeroDuration()});
    return done(absl::OkStatus(), std::move(resolution));
  }
  auto name = NormalizeDomainName(spec.server);
  std::make_shared<Job>(dns_, random_, *std::move(name), port, spec,
                        std::move(done))
      ->Start();
}

}  // namespace sipresolver::dns
