// The agent's NatKeeper against a real coturn, its keep-alive server given
// by name and resolved through a real dnsmasq: without blocking its loop,
// again at the name's TTL, and saying so when the name does not resolve.
#include "client/nat_keeper.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/coturn_server.h"
#include "tests/support/dnsmasq_server.h"

namespace sipresolver::testing {
namespace {

class NatKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto coturn = CoturnServer::Start();
    ASSERT_TRUE(coturn.ok()) << coturn.status();
    coturn_ = *std::move(coturn);
    zone_.ttl = 1;  // Renewed every few seconds (the keeper's minimum).
    zone_.hosts = {{"stun.test", {"127.0.0.1"}}};
    auto dns = DnsmasqServer::Start(zone_);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);

    client::NatOptions options;
    options.interval = absl::Seconds(1);
    options.dns_servers = dns_->address();
    options.on_mapping = [this](const nat::MappedAddress&, bool) {
      absl::MutexLock lock(&mu_);
      ++mappings_;
    };
    options.on_event = [this](const std::string& e) {
      absl::MutexLock lock(&mu_);
      events_.push_back(e);
    };
    auto keeper = client::NatKeeper::Create(options);
    ASSERT_TRUE(keeper.ok()) << keeper.status();
    keeper_ = *std::move(keeper);
  }
  void TearDown() override { keeper_.reset(); }

  // Polls (bounded) until `condition` holds under the lock.
  bool Eventually(const std::function<bool()>& condition,
                  absl::Duration bound = absl::Seconds(20)) {
    const absl::Time end = absl::Now() + bound;
    while (absl::Now() < end) {
      {
        absl::MutexLock lock(&mu_);
        if (condition()) return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }
  bool EventMentions(const std::string& text)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const std::string& e : events_) {
      if (absl::StrContains(e, text)) return true;
    }
    return false;
  }

  std::unique_ptr<CoturnServer> coturn_;
  DnsZone zone_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<client::NatKeeper> keeper_;
  absl::Mutex mu_;
  int mappings_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

TEST_F(NatKeeperTest, N2_KeepAliveServerByNameIsResolvedAndUsed) {
  keeper_->SetTarget("stun.test", coturn_->port());
  ASSERT_TRUE(Eventually(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return mappings_ > 0; }));
  EXPECT_GE(dns_->CountQueries("stun.test", "A"), 1);
}

TEST_F(NatKeeperTest, N2_TheNameIsLookedUpAgainAtItsTtl) {
  keeper_->SetTarget("stun.test", coturn_->port());
  ASSERT_TRUE(Eventually(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return mappings_ > 0; }));
  EXPECT_TRUE(dns_->WaitForQueries("stun.test", "A", 2, absl::Seconds(30)));
}

TEST_F(NatKeeperTest, N2_ANameThatDoesNotResolveIsReportedAndGetsNoKeepAlives) {
  keeper_->SetTarget("stun.test", coturn_->port());
  ASSERT_TRUE(Eventually(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return mappings_ > 0; }));
  keeper_->SetTarget("missing.test", coturn_->port());
  ASSERT_TRUE(Eventually([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return EventMentions("cannot resolve keep-alive server missing.test");
  }));
}

}  // namespace
}  // namespace sipresolver::testing
