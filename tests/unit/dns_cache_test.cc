#include "lib/dns/dns_cache.h"

#include "gtest/gtest.h"
#include "tests/support/fake_dns_transport.h"

namespace sipresolver::dns {
namespace {

using testing::AddressAnswer;
using testing::NoData;
using testing::NxDomain;

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(100);
const CacheKey kKey{"sip.test", RecordType::kA};

std::shared_ptr<const DnsAnswer> Share(DnsAnswer a) {
  return std::make_shared<const DnsAnswer>(std::move(a));
}

TEST(DnsCacheTest, FreshUntilTtlThenGone) {
  DnsCache cache(CacheLimits{});
  cache.Set(kKey,
            Share(AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60)),
            kT0);
  auto hit = cache.Lookup(kKey, kT0 + absl::Seconds(59));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->remaining_ttl, absl::Seconds(1));
  EXPECT_FALSE(cache.Lookup(kKey, kT0 + absl::Seconds(60)));
}

TEST(DnsCacheTest, ClampsTtlToBounds) {
  CacheLimits limits;
  limits.min_ttl = absl::Seconds(10);
  limits.max_ttl = absl::Seconds(100);
  EXPECT_EQ(
      CacheTtl(AddressAnswer("a", RecordType::kA, {"192.0.2.1"}, 1), limits),
      absl::Seconds(10));
  EXPECT_EQ(CacheTtl(AddressAnswer("a", RecordType::kA, {"192.0.2.1"}, 86400),
                     limits),
            absl::Seconds(100));
}

TEST(DnsCacheTest, NegativeTtlFromSoaIsBounded) {
  CacheLimits limits;
  limits.max_negative_ttl = absl::Seconds(300);
  limits.default_negative_ttl = absl::Seconds(30);
  EXPECT_EQ(CacheTtl(NxDomain("a", RecordType::kA, 120), limits),
            absl::Seconds(120));
  EXPECT_EQ(CacheTtl(NxDomain("a", RecordType::kA, 86400), limits),
            absl::Seconds(300));
  EXPECT_EQ(CacheTtl(NoData("a", RecordType::kA), limits), absl::Seconds(30));
}

// rx 4 IN CNAME nothere (NXDOMAIN, SOA negative TTL 30): believed 4 s, not
// 30 s, as when the server stops at the CNAME.
TEST(DnsCacheTest, NegativeAnswerThroughACnameLastsNoLongerThanTheCname) {
  CacheLimits limits;
  DnsAnswer a = NxDomain("rx.test", RecordType::kA, 30);
  a.cname_chain = {"nothere.test"};
  a.canonical_name = "nothere.test";
  a.min_ttl = 4;
  EXPECT_EQ(CacheTtl(a, limits), absl::Seconds(4));
  a.min_ttl = 300;  // A CNAME outliving the negative TTL does not extend it.
  EXPECT_EQ(CacheTtl(a, limits), absl::Seconds(30));
}

TEST(DnsCacheTest, StaleWithinBoundOnly) {
  CacheLimits limits;
  limits.max_stale = absl::Seconds(30);
  DnsCache cache(limits);
  cache.Set(kKey,
            Share(AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 10)),
            kT0);
  auto stale = cache.LookupStale(kKey, kT0 + absl::Seconds(40));
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->remaining_ttl, absl::ZeroDuration());
  EXPECT_FALSE(cache.LookupStale(kKey, kT0 + absl::Seconds(41)));
  auto fresh = cache.LookupStale(kKey, kT0 + absl::Seconds(5));
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->stale);
}

TEST(DnsCacheTest, ZeroTtlIsNeverFreshButCanBeServedStale) {
  DnsCache cache(CacheLimits{});
  cache.Set(kKey,
            Share(AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 0)),
            kT0);
  EXPECT_FALSE(cache.Lookup(kKey, kT0));
  EXPECT_TRUE(cache.LookupStale(kKey, kT0 + absl::Seconds(1)));
}

TEST(DnsCacheTest, KeysByNameAndType) {
  DnsCache cache(CacheLimits{});
  cache.Set(kKey,
            Share(AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60)),
            kT0);
  EXPECT_FALSE(cache.Lookup({"sip.test", RecordType::kSrv}, kT0));
  EXPECT_FALSE(cache.Lookup({"other.test", RecordType::kA}, kT0));
}

TEST(DnsCacheTest, EvictsClosestToExpiryWhenFull) {
  CacheLimits limits;
  limits.max_entries = 2;
  limits.max_stale = absl::ZeroDuration();
  DnsCache cache(limits);
  cache.Set({"short", RecordType::kA},
            Share(AddressAnswer("short", RecordType::kA, {"192.0.2.1"}, 10)),
            kT0);
  cache.Set({"long", RecordType::kA},
            Share(AddressAnswer("long", RecordType::kA, {"192.0.2.2"}, 100)),
            kT0);
  cache.Set({"new", RecordType::kA},
            Share(AddressAnswer("new", RecordType::kA, {"192.0.2.3"}, 50)),
            kT0);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Lookup({"short", RecordType::kA}, kT0));
  EXPECT_TRUE(cache.Lookup({"long", RecordType::kA}, kT0));
  EXPECT_TRUE(cache.Lookup({"new", RecordType::kA}, kT0));
}

}  // namespace
}  // namespace sipresolver::dns
