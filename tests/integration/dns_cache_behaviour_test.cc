// Device resolution through the cache, against a real dnsmasq over c-ares:
// TTL expiry and renewal, negative caching (SOA or the default), serve-stale
// while DNS is down, joining one in-flight query, and DNS failures (SERVFAIL,
// timeout) reported as UNAVAILABLE. TTLs and timeouts are kept to a second or
// two so the whole file runs in a few seconds. The device rules themselves:
// device_resolution_test.cc.
#include <future>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/real_dns_stack.h"

namespace sipresolver::testing {
namespace {

using ::testing::ElementsAre;

// Each test starts dnsmasq and the stack with its own zone and options.
using DeviceResolutionTest = RealDnsStackTest;

DnsZone SmallZone(uint32_t ttl, const std::string& pbx_address = "192.0.2.1") {
  DnsZone zone;
  zone.domain = "test";
  zone.ttl = ttl;
  zone.hosts = {{"pbx.test", {pbx_address}}};
  return zone;
}

// S11: the candidate list follows the zone on every renewal, per the TTL.
TEST_F(DeviceResolutionTest, S11_TtlExpiryRenewsTheCandidates) {
  // 4 s: long enough for a restart of dnsmasq on a busy machine.
  StackOptions options;
  options.simulated_cache_time = true;
  ASSERT_NO_FATAL_FAILURE(StartStack(SmallZone(/*ttl=*/4), options));
  Outcome r = Resolve("pbx.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.1"));
  EXPECT_FALSE(r.resolution.lookups[0].from_cache);
  EXPECT_EQ(r.resolution.lookups[0].ttl, absl::Seconds(4));

  // The zone changes; within the TTL the cached answer is still used.
  ASSERT_TRUE(dnsmasq_->Restart(SmallZone(4, "192.0.2.2")).ok());
  r = Resolve("pbx.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.1"));
  EXPECT_TRUE(r.resolution.lookups[0].from_cache);
  EXPECT_LE(r.resolution.lookups[0].ttl, absl::Seconds(4));
  EXPECT_EQ(dnsmasq_->CountQueries("pbx.test", "A"), 1);

  // Once it has expired, the name is asked for again and the change is seen.
  cache_time_.Advance(absl::Seconds(4) + absl::Milliseconds(1));
  r = Resolve("pbx.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.2"));
  EXPECT_FALSE(r.resolution.lookups[0].from_cache);
  EXPECT_EQ(dnsmasq_->CountQueries("pbx.test", "A"), 2);
}

// R1 makes three lookups for a missing name; each is a negative answer.
void ExpectNotFoundFromCache(const Outcome& r, bool from_cache) {
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound) << r.status;
  ASSERT_EQ(r.resolution.lookups.size(), 3u) << Describe(r.resolution);
  for (const auto& l : r.resolution.lookups) {
    EXPECT_EQ(l.outcome, LookupOutcome::kNxDomain) << l.name;
    EXPECT_EQ(l.from_cache, from_cache) << l.name;
  }
}

TEST_F(DeviceResolutionTest, NegativeAnswerCachedForSoaNegativeTtl) {
  DnsZone zone = SmallZone(/*ttl=*/3);  // SOA TTL = MINIMUM = 3 s.
  zone.authoritative = true;
  StackOptions options;
  options.limits.default_negative_ttl = absl::Minutes(1);  // Must not apply.
  options.simulated_cache_time = true;
  ASSERT_NO_FATAL_FAILURE(StartStack(zone, options));

  Outcome r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, false);
  EXPECT_EQ(r.resolution.lookups[0].ttl, absl::Seconds(3));
  r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, true);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "SRV"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.nothere.test", "SRV"), 1);

  cache_time_.Advance(absl::Seconds(3) + absl::Milliseconds(1));
  r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, false);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "A"), 2);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.nothere.test", "SRV"), 2);
}

TEST_F(DeviceResolutionTest, NegativeAnswerWithoutSoaUsesDefaultNegativeTtl) {
  StackOptions options;  // dnsmasq's default mode sends no SOA.
  options.limits.default_negative_ttl = absl::Seconds(3);
  options.simulated_cache_time = true;
  ASSERT_NO_FATAL_FAILURE(StartStack(SmallZone(/*ttl=*/60), options));

  Outcome r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, false);
  EXPECT_EQ(r.resolution.lookups[0].ttl, absl::Seconds(3));
  r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, true);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "A"), 1);

  cache_time_.Advance(absl::Seconds(3) + absl::Milliseconds(1));
  r = Resolve("nothere.test");
  ExpectNotFoundFromCache(r, false);
  EXPECT_EQ(dnsmasq_->CountQueries("nothere.test", "A"), 2);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.nothere.test", "SRV"), 2);
}

TEST_F(DeviceResolutionTest, DnsDownServesStaleThenUnavailable) {
  StackOptions options;
  options.limits.max_stale = absl::Seconds(4);
  options.simulated_cache_time = true;
  ASSERT_NO_FATAL_FAILURE(StartStack(SmallZone(/*ttl=*/1), options));
  Outcome r = Resolve("pbx.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  dnsmasq_->Stop();

  // A name never resolved: nothing to fall back on, and no long wait.
  absl::Time start = absl::Now();
  r = Resolve("other.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_LT(absl::Now() - start,
            absl::Seconds(5));  // Not stuck: refused at once.
  ASSERT_EQ(r.resolution.lookups.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kUnavailable);

  // Past the TTL, within max_stale: the expired answer, marked stale.
  cache_time_.Advance(absl::Seconds(1) + absl::Milliseconds(1));
  r = Resolve("pbx.test");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.1"));
  ASSERT_EQ(r.resolution.lookups.size(), 1u) << Describe(r.resolution);
  EXPECT_TRUE(r.resolution.lookups[0].stale);
  EXPECT_TRUE(r.resolution.lookups[0].from_cache);
  EXPECT_EQ(observer_.cache(CacheResult::kStale), 1);

  // Past TTL + max_stale: gone.
  cache_time_.Advance(absl::Seconds(4));
  r = Resolve("pbx.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_TRUE(r.resolution.candidates.empty());
  EXPECT_EQ(observer_.cache(CacheResult::kStale), 1);
}

TEST_F(DeviceResolutionTest, ConcurrentRequestsJoinOneInFlightQuery) {
  StackOptions options;
  options.dns_timeout = absl::Seconds(3);  // No retransmission while paused.
  ASSERT_NO_FATAL_FAILURE(StartStack(SmallZone(/*ttl=*/60), options));
  constexpr int kRequests = 50;

  dnsmasq_->Pause();
  std::vector<std::future<Outcome>> results;
  for (int i = 0; i < kRequests; ++i) {
    results.push_back(ResolveAsync(Spec("pbx.test")));
  }
  // RunSync queues behind the 50 posts: all have run and none is answered.
  EXPECT_EQ(InFlight(), 1u);
  EXPECT_EQ(observer_.joined(), kRequests - 1);
  dnsmasq_->Resume();

  for (auto& result : results) {
    Outcome r = Wait(result);
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Addresses(r.resolution), ElementsAre("192.0.2.1"));
  }
  EXPECT_EQ(dnsmasq_->CountQueries("pbx.test", "A"), 1);
  EXPECT_EQ(observer_.upstream("answer"), 1);
  EXPECT_EQ(InFlight(), 0u);
}

// The A queries for pbx.broken.test / pbx.slow.test fail (SERVFAIL / no
// answer); their SRV records are there for a wrong fall-through to find.
DnsZone FailingZone() {
  DnsZone zone = SmallZone(/*ttl=*/60);
  zone.srv = {{"pbx.broken.test", "pbx.test", 5070, 10, 0},
              {"pbx.slow.test", "pbx.test", 5070, 10, 0}};
  zone.servfail_domains = {"broken.test"};
  zone.silent_domains = {"slow.test"};
  return zone;
}

TEST_F(DeviceResolutionTest, R1_ServfailIsUnavailableNotAFallThroughToSrv) {
  ASSERT_NO_FATAL_FAILURE(StartStack(FailingZone()));
  Outcome r = Resolve("pbx.broken.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_TRUE(r.resolution.candidates.empty());
  ASSERT_EQ(r.resolution.lookups.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kUnavailable);
  EXPECT_GE(dnsmasq_->CountQueries("pbx.broken.test", "A"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("pbx.broken.test", "SRV"), 0);
  EXPECT_EQ(dnsmasq_->CountQueries("_sip._udp.pbx.broken.test", "SRV"), 0);
  EXPECT_EQ(observer_.upstream("error"), 1);

  // A failure is not cached: the next request asks again.
  const int asked = dnsmasq_->CountQueries("pbx.broken.test", "A");
  r = Resolve("pbx.broken.test");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_GT(dnsmasq_->CountQueries("pbx.broken.test", "A"), asked);
}

TEST_F(DeviceResolutionTest, R1_TimeoutIsUnavailableWithinTheTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartStack(FailingZone()));  // 2 s, one try.
  const absl::Time start = absl::Now();
  Outcome r = Resolve("pbx.slow.test");
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(10));  // Bounded by the timeout, not hung.
  ASSERT_EQ(r.resolution.lookups.size(), 1u) << Describe(r.resolution);
  EXPECT_EQ(r.resolution.lookups[0].outcome, LookupOutcome::kUnavailable);
  EXPECT_EQ(dnsmasq_->CountQueries("pbx.slow.test", "SRV"), 0);
  EXPECT_EQ(observer_.upstream("timeout"), 1);
}

}  // namespace
}  // namespace sipresolver::testing
