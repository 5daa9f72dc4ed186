// End to end: three sipresolverd replicas sharing probing through a real
// etcd (--etcd_endpoints), agents on every replica, real Kamailio
// registrars found through a real DNS server. Each registrar gets the
// probes of one replica alone, not three times as many, and a registrar
// that stops fails over the agents on every replica; a replica killed
// hands its share over.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/etcd_server.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

constexpr absl::Duration kInterval = absl::Milliseconds(500);
constexpr int kReplicas = 3;

class ReplicasSharingProbesTest : public ::testing::Test {
 protected:
  virtual int EtcdMembers() const { return 1; }

  void SetUp() override {
    auto etcd = EtcdServer::Start(EtcdMembers());
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    RegistrarStackOptions options;
    options.registrars = 2;
    options.probe_flags = {"--probe_allow=127.0.0.1/32",
                           "--probe_interval=500ms",
                           "--probe_edge_interval=100ms", "--probe_timeout=1s",
                           "--probe_min_rto=1s"};
    options.extra_flags = FleetFlags(0);
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    replicas_.push_back(&stack_->daemon());
    std::vector<std::string> flags = options.probe_flags;
    for (int i = 1; i < kReplicas; ++i) {
      std::vector<std::string> all = flags;
      for (const std::string& f : FleetFlags(i)) all.push_back(f);
      auto daemon = SipresolverdProcess::Start(stack_->dns().address(), all);
      ASSERT_TRUE(daemon.ok()) << daemon.status();
      more_.push_back(*std::move(daemon));
      replicas_.push_back(more_.back().get());
    }
    for (SipresolverdProcess* r : replicas_) {
      agents_.push_back(std::make_unique<DecisionWatcher>(
          r->stub(), WatchRequest("agent", RegistrarStack::kDomain)));
    }
  }

  std::vector<std::string> FleetFlags(int i) const {
    return {"--etcd_endpoints=" + etcd_->endpoints(),
            "--replica_id=replica-" + std::to_string(i), "--etcd_lease_ttl=2s"};
  }

  double Sum(const std::string& sample) const {
    double sum = 0;
    for (SipresolverdProcess* r : replicas_) {
      if (r->running()) sum += MetricValue(r->Metrics(), sample);
    }
    return sum;
  }

  // Every replica sees every other, and each registrar has its two owners.
  bool Settled(int replicas) const {
    for (SipresolverdProcess* r : replicas_) {
      if (r->running() &&
          MetricValue(r->Metrics(), "sipresolver_fleet_replicas") != replicas) {
        return false;
      }
    }
    return Sum("sipresolver_probe_owned_endpoints") == 2 * 2;
  }

  // Whether at least `n` agents (of running replicas) have `port` as their
  // primary now (all of them: n = -1), waiting at most kEventuallyTimeout.
  // Their latest decision counts, not the next one: one that moved before
  // the call has nothing more to send until its next heartbeat.
  bool AgentsOn(uint16_t port, int n = -1) {
    int running = 0;
    for (SipresolverdProcess* r : replicas_) running += r->running() ? 1 : 0;
    if (n < 0) n = running;
    return Eventually([&] {
      int count = 0;
      for (size_t i = 0; i < agents_.size(); ++i) {
        if (!replicas_[i]->running()) continue;
        const std::vector<v1::Decision> all = agents_[i]->Received();
        count += !all.empty() &&
                 all.back().state() == v1::DECISION_STATE_ACTIVE &&
                 all.back().primary().port() == port;
      }
      return count >= n;
    });
  }
  bool AllAgentsOn(uint16_t port) { return AgentsOn(port); }

  // REGISTERs each registrar receives per probe interval, over `window`.
  std::vector<double> ProbesPerInterval(absl::Duration window) {
    for (int i = 0; i < 2; ++i) stack_->registrar(i).ResetRequestCounts();
    const absl::Time start = absl::Now();
    absl::SleepFor(window);
    const double intervals = (absl::Now() - start) / kInterval;
    std::vector<double> rates;
    for (int i = 0; i < 2; ++i) {
      rates.push_back(stack_->registrar(i).CountRequests("REGISTER") /
                      intervals);
    }
    return rates;
  }

  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<RegistrarStack> stack_;
  std::vector<std::unique_ptr<SipresolverdProcess>> more_;
  std::vector<SipresolverdProcess*> replicas_;
  std::vector<std::unique_ptr<DecisionWatcher>> agents_;
};

// One replica alone probes each registrar once per interval; three sharing
// do the same together (without sharing: three per interval). Counted at
// the registrars. A busy machine only delays probes: it can lower the
// rate, never raise it, so the bound below tells sharing from none.
TEST_F(ReplicasSharingProbesTest, ThreeReplicasProbeEachRegistrarAsOneWould) {
  ASSERT_TRUE(AllAgentsOn(stack_->registrar(0).port()));
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }))
      << replicas_[0]->Metrics();
  const std::vector<double> rates = ProbesPerInterval(absl::Seconds(4));
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(rates[i], 0) << "registrar " << i;
    EXPECT_LT(rates[i], 1.6) << "registrar " << i;  // Not sharing: ~3.
  }
}

// A registrar stops: whichever replica owns it finds out, and the agents on
// every replica move to the other.
TEST_F(ReplicasSharingProbesTest,
       ARegistrarStoppedFailsOverTheAgentsOnEveryReplica) {
  ASSERT_TRUE(AllAgentsOn(stack_->registrar(0).port()));
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }));
  stack_->registrar(0).Pause();
  EXPECT_TRUE(AllAgentsOn(stack_->registrar(1).port()));
  // The replicas that did not see it took the verdict over, and say how
  // late.
  EXPECT_GT(Sum("sipresolver_shared_verdict_lag_seconds_count"), 0);
  stack_->registrar(0).Resume();
}

// SIGKILL of a replica (no goodbye): within its lease the others see it
// gone and take its turns; the registrars go on being probed at one
// replica's rate, and a failure is still seen by every remaining agent.
TEST_F(ReplicasSharingProbesTest, AKilledReplicasShareIsTakenOver) {
  ASSERT_TRUE(AllAgentsOn(stack_->registrar(0).port()));
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }));
  more_.back()->Kill();
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas - 1); }))
      << replicas_[0]->Metrics();
  const std::vector<double> rates = ProbesPerInterval(absl::Seconds(4));
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(rates[i], 0) << "registrar " << i;
    EXPECT_LT(rates[i], 1.6) << "registrar " << i;
  }
  stack_->registrar(0).Pause();
  EXPECT_TRUE(AllAgentsOn(stack_->registrar(1).port()));
  stack_->registrar(0).Resume();
}

// etcd gone: every replica goes on deciding, and only the owners it last
// knew probe, each at most once per interval: never more than
// --probe_owners (2) per interval per registrar. What they find cannot
// reach the other replica meanwhile: the agents of the two owners move.
// etcd back: the third learns it, and no owner goes back to the verdict
// etcd held from before the fault.
TEST_F(ReplicasSharingProbesTest, WithEtcdGoneOnlyTheLastKnownOwnersProbe) {
  ASSERT_TRUE(AllAgentsOn(stack_->registrar(0).port()));
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }));
  etcd_->Kill();
  ASSERT_TRUE(Eventually([&] {
    for (SipresolverdProcess* r : replicas_) {
      if (r->Metrics().find("sipresolver_etcd_session_active 0") ==
          std::string::npos) {
        return false;
      }
    }
    return true;
  }));
  const std::vector<double> rates = ProbesPerInterval(absl::Seconds(4));
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(rates[i], 0) << "registrar " << i;
    EXPECT_LT(rates[i], 2.6) << "registrar " << i;  // Everyone: ~3.
  }
  stack_->registrar(0).Pause();
  ASSERT_TRUE(AgentsOn(stack_->registrar(1).port(), 2));
  std::vector<size_t> seen;
  for (auto& a : agents_) seen.push_back(a->Received().size());

  ASSERT_TRUE(etcd_->Restart().ok());
  EXPECT_TRUE(AllAgentsOn(stack_->registrar(1).port()));
  for (size_t i = 0; i < agents_.size(); ++i) {
    const std::vector<v1::Decision> all = agents_[i]->Received();
    for (size_t j = seen[i]; j < all.size(); ++j) {
      EXPECT_NE(all[j].primary().port(), stack_->registrar(0).port())
          << "agent " << i << " went back to the registrar still down";
    }
  }
  stack_->registrar(0).Resume();
}

// The same on a three-member etcd cluster.
class ReplicasSharingProbesOnAClusterTest : public ReplicasSharingProbesTest {
 protected:
  int EtcdMembers() const override { return 3; }
};

// SIGKILL of etcd's leader: the cluster elects another, the replicas'
// sessions carry on or come back, the registrars go on being probed within
// the owners' bound, no agent's decision changes, and a failure still
// reaches every replica.
TEST_F(ReplicasSharingProbesOnAClusterTest, TheEtcdLeaderKilledChangesNothing) {
  ASSERT_TRUE(AllAgentsOn(stack_->registrar(0).port()));
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }));
  std::vector<size_t> decisions;
  for (auto& a : agents_) decisions.push_back(a->Received().size());
  const int leader = etcd_->Leader();
  ASSERT_GE(leader, 0) << etcd_->ReadLogs();
  etcd_->Kill(leader);
  const std::vector<double> rates = ProbesPerInterval(absl::Seconds(4));
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(rates[i], 0) << "registrar " << i;
    EXPECT_LT(rates[i], 2.6) << "registrar " << i;  // The owners' bound.
  }
  for (size_t i = 0; i < agents_.size(); ++i) {
    EXPECT_EQ(agents_[i]->Received().size(), decisions[i]) << "agent " << i;
  }
  ASSERT_TRUE(Eventually([&] { return Settled(kReplicas); }));
  stack_->registrar(0).Pause();
  EXPECT_TRUE(AllAgentsOn(stack_->registrar(1).port()));
  stack_->registrar(0).Resume();
}

}  // namespace
}  // namespace sipresolver::testing
