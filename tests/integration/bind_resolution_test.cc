// The device rules and the cache's TTLs against BIND, an authoritative
// server that answers the way an ITSP's does: SRV targets' addresses in the
// additional section, each with its own TTL, and SOA-bearing negative
// answers, also through CNAMEs. The waits bound hangs; they are far from
// the TTLs that would pass without the behaviour under test.
#include "absl/time/clock.h"
#include "tests/integration/real_dns_stack.h"
#include "tests/support/bind_server.h"

namespace sipresolver::testing {
namespace {

class BindResolutionTest : public RealDnsStackTest {
 protected:
  void Serve(const BindZone& zone) {
    auto server = BindServer::Start(zone);
    ASSERT_TRUE(server.ok()) << server.status();
    bind_ = *std::move(server);
    ASSERT_NO_FATAL_FAILURE(ConnectStack(bind_->address()));
  }
  void TearDown() override {
    RealDnsStackTest::TearDown();
    bind_.reset();
  }
  // Resolves `name` until `done` holds, at most `bound`; the last outcome.
  Outcome ResolveUntil(const std::string& name, absl::Duration bound,
                       const std::function<bool(const Outcome&)>& done) {
    const absl::Time end = absl::Now() + bound;
    Outcome o = Resolve(name);
    while (!done(o) && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(250));
      o = Resolve(name);
    }
    return o;
  }
  std::unique_ptr<BindServer> bind_;
};

BindZone SrvZone(const std::string& address) {
  BindZone zone;
  zone.records = {"rg 40 IN SRV 10 10 7100 rgt", "rgt 6 IN A " + address};
  return zone;
}

// R1/R3: SRV on the bare name; the target's address comes with the answer.
TEST_F(BindResolutionTest, R3_SrvTargetAddressComesFromTheAdditionalSection) {
  ASSERT_NO_FATAL_FAILURE(Serve(SrvZone("10.77.3.1")));
  Outcome o = Resolve("rg.test");
  ASSERT_TRUE(o.status.ok()) << o.status << Describe(o.resolution);
  ASSERT_EQ(o.resolution.candidates.size(), 1u) << Describe(o.resolution);
  EXPECT_EQ(o.resolution.candidates[0].port, 7100);
  EXPECT_EQ(o.resolution.candidates[0].ttl, absl::Seconds(6));
  bool from_additional = false;
  for (const dns::LookupRecord& l : o.resolution.lookups) {
    from_additional |=
        l.detail == "from the additional section of the SRV answer";
  }
  EXPECT_TRUE(from_additional) << Describe(o.resolution);
}

// S11: the address changes while the SRV answer is still cached; the
// decision must see it after the address's 6 s, not the SRV's 40 s, and the
// candidate's TTL counts down meanwhile.
TEST_F(BindResolutionTest, R3_AdditionalAddressExpiresAtItsOwnTtl) {
  ASSERT_NO_FATAL_FAILURE(Serve(SrvZone("10.77.3.1")));
  ASSERT_TRUE(Resolve("rg.test").status.ok());
  const absl::Time first = absl::Now();
  ASSERT_TRUE(bind_->Restart(SrvZone("10.77.3.2")).ok()) << bind_->ReadLog();
  // The remaining TTL counts down while the old address is still cached.
  Outcome o = ResolveUntil("rg.test", absl::Seconds(5), [](const Outcome& x) {
    return !x.resolution.candidates.empty() &&
           x.resolution.candidates[0].ttl < absl::Seconds(6);
  });
  ASSERT_FALSE(o.resolution.candidates.empty()) << Describe(o.resolution);
  EXPECT_LT(o.resolution.candidates[0].ttl, absl::Seconds(6));

  o = ResolveUntil("rg.test", absl::Seconds(25), [](const Outcome& x) {
    return !x.resolution.candidates.empty() &&
           x.resolution.candidates[0].address == "10.77.3.2";
  });
  ASSERT_FALSE(o.resolution.candidates.empty()) << Describe(o.resolution);
  EXPECT_EQ(o.resolution.candidates[0].address, "10.77.3.2")
      << Describe(o.resolution);
  EXPECT_LT(absl::Now() - first, absl::Seconds(30));  // Before the SRV's 40 s.
}

// RFC 2308: NXDOMAIN reached through "rx 4 CNAME nothere" is believed for
// the CNAME's 4 s, not the zone's 60 s negative TTL.
TEST_F(BindResolutionTest,
       NegativeAnswerThroughACnameLastsNoLongerThanTheCname) {
  BindZone zone;
  zone.negative_ttl = 60;
  zone.records = {"rx 4 IN CNAME nothere"};
  ASSERT_NO_FATAL_FAILURE(Serve(zone));
  Outcome o = Resolve("rx.test");
  ASSERT_EQ(o.status.code(), absl::StatusCode::kNotFound) << o.status;
  const absl::Time first = absl::Now();

  zone.records = {"rx 4 IN CNAME there", "there 60 IN A 10.77.3.9"};
  ASSERT_TRUE(bind_->Restart(zone).ok()) << bind_->ReadLog();
  o = ResolveUntil("rx.test", absl::Seconds(25),
                   [](const Outcome& x) { return x.status.ok(); });
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(Addresses(o.resolution), std::vector<std::string>{"10.77.3.9"});
  EXPECT_LT(absl::Now() - first, absl::Seconds(50));  // Before the 60 s.
}

}  // namespace
}  // namespace sipresolver::testing
