#include "lib/dns/caching_resolver.h"

#include "gtest/gtest.h"
#include "tests/support/fake_dns_transport.h"

namespace sipresolver::dns {
namespace {

using testing::AddressAnswer;
using testing::FakeDnsTransport;

class CountingObserver : public DnsObserver {
 public:
  void OnCacheLookup(RecordType, CacheResult r) override { ++lookups[int(r)]; }
  void OnUpstreamQuery(RecordType, absl::string_view outcome) override {
    outcomes.emplace_back(outcome);
  }
  void OnJoinedInFlight(RecordType) override { ++joins; }
  int lookups[3] = {0, 0, 0};
  std::vector<std::string> outcomes;
  int joins = 0;
};

class CachingResolverTest : public ::testing::Test {
 protected:
  CachingResolverTest() { limits_.max_stale = absl::Seconds(30); }

  QueryResult QueryNow(const std::string& name,
                       RecordType type = RecordType::kA) {
    QueryResult out;
    bool called = false;
    resolver().Query(name, type, [&](const QueryResult& r) {
      out = r;
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }
  CachingResolver& resolver() {
    if (!resolver_) {
      resolver_ = std::make_unique<CachingResolver>(transport_, clock_, limits_,
                                                    &observer_);
    }
    return *resolver_;
  }

  FakeDnsTransport transport_;
  SimulatedClock clock_;
  CacheLimits limits_;
  CountingObserver observer_;
  std::unique_ptr<CachingResolver> resolver_;
};

TEST_F(CachingResolverTest, SecondQueryWithinTtlIsServedFromCache) {
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60));
  QueryResult first = QueryNow("sip.test");
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(first.remaining_ttl, absl::Seconds(60));
  clock_.Advance(absl::Seconds(20));
  QueryResult second = QueryNow("sip.test");
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.remaining_ttl, absl::Seconds(40));
  EXPECT_EQ(transport_.total(), 1);
  EXPECT_EQ(observer_.lookups[int(CacheResult::kHit)], 1);
}

TEST_F(CachingResolverTest, QueriesAgainAfterTtlAndSeesTheChange) {
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60));
  QueryNow("sip.test");
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.9"}, 60));
  clock_.Advance(absl::Seconds(60));
  QueryResult renewed = QueryNow("sip.test");
  EXPECT_FALSE(renewed.from_cache);
  EXPECT_EQ(renewed.answer->addresses[0].address, "192.0.2.9");
  EXPECT_EQ(transport_.total(), 2);
}

TEST_F(CachingResolverTest, ConcurrentQueriesJoinOneUpstreamQuery) {
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60));
  transport_.Hold();
  int answered = 0;
  for (int i = 0; i < 10; ++i) {
    resolver().Query("sip.test", RecordType::kA, [&](const QueryResult& r) {
      EXPECT_TRUE(r.status.ok());
      ++answered;
    });
  }
  EXPECT_EQ(resolver().in_flight(), 1u);
  EXPECT_EQ(answered, 0);
  transport_.Release();
  EXPECT_EQ(answered, 10);
  EXPECT_EQ(transport_.total(), 1);
  EXPECT_EQ(observer_.joins, 9);
  EXPECT_EQ(resolver().in_flight(), 0u);
}

// The cache is written and the job gone before waiters run: a waiter that
// queries again is answered from the cache, not attached to a dead job.
TEST_F(CachingResolverTest, WaiterQueryingAgainHitsTheCache) {
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 60));
  transport_.Hold();
  bool inner_from_cache = false;
  resolver().Query("sip.test", RecordType::kA, [&](const QueryResult&) {
    resolver().Query("sip.test", RecordType::kA, [&](const QueryResult& r) {
      inner_from_cache = r.from_cache;
    });
  });
  transport_.Release();
  EXPECT_TRUE(inner_from_cache);
  EXPECT_EQ(transport_.total(), 1);
}

TEST_F(CachingResolverTest, DifferentTypesAreSeparateQueries) {
  transport_.Hold();
  resolver().Query("sip.test", RecordType::kA, [](const QueryResult&) {});
  resolver().Query("sip.test", RecordType::kSrv, [](const QueryResult&) {});
  EXPECT_EQ(transport_.total(), 2);
  transport_.Release();
}

TEST_F(CachingResolverTest, ServesStaleWithinBoundWhenUpstreamFails) {
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 10));
  QueryNow("sip.test");
  transport_.Set("sip.test", RecordType::kA,
                 absl::DeadlineExceededError("timeout"));
  clock_.Advance(absl::Seconds(20));
  QueryResult stale = QueryNow("sip.test");
  ASSERT_TRUE(stale.status.ok());
  EXPECT_TRUE(stale.stale);
  EXPECT_TRUE(stale.from_cache);
  EXPECT_EQ(stale.answer->addresses[0].address, "192.0.2.1");
  EXPECT_EQ(observer_.lookups[int(CacheResult::kStale)], 1);
  EXPECT_EQ(observer_.outcomes.back(), "timeout");

  clock_.Advance(absl::Seconds(21));  // 41 s: past TTL + max_stale.
  QueryResult gone = QueryNow("sip.test");
  EXPECT_EQ(gone.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(gone.answer, nullptr);
}

TEST_F(CachingResolverTest, FailureIsNeverCached) {
  transport_.Set("sip.test", RecordType::kA, absl::UnavailableError("refused"));
  EXPECT_EQ(QueryNow("sip.test").status.code(), absl::StatusCode::kUnavailable);
  transport_.Set("sip.test", RecordType::kA,
                 AddressAnswer("sip.test", RecordType::kA, {"192.0.2.1"}, 10));
  EXPECT_TRUE(QueryNow("sip.test").status.ok());
  EXPECT_EQ(transport_.total(), 2);
}

TEST_F(CachingResolverTest, NegativeAnswersAreCachedBriefly) {
  limits_.default_negative_ttl = absl::Seconds(5);
  QueryResult nx = QueryNow("missing.test");  // Unscripted: NXDOMAIN.
  EXPECT_EQ(nx.answer->rcode, kRcodeNxDomain);
  EXPECT_EQ(observer_.outcomes.back(), "nxdomain");
  EXPECT_TRUE(QueryNow("missing.test").from_cache);
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(QueryNow("missing.test").from_cache);
  EXPECT_EQ(transport_.total(), 2);
}

}  // namespace
}  // namespace sipresolver::dns
