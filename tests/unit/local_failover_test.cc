// The rules both agents follow without the service (client/local_failover.h):
// a reported REGISTER failure moves the primary and secondary down the last
// decision's candidates as the device's own redundancy would (S6-S10).
#include "client/local_failover.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

// Candidates A, B, C, D at 192.0.2.1-4:5060 with the given priorities.
class LocalFailoverTest : public ::testing::Test {
 protected:
  void SetPriorities(std::vector<uint32_t> priorities) {
    candidates_.clear();
    for (size_t i = 0; i < priorities.size(); ++i) {
      candidates_.push_back({kAddresses[i], 5060, priorities[i]});
    }
  }
  // Reports candidate `index` failing (or registered); true when it moved.
  bool Report(int index, bool registered = false) {
    return lf_on_report(&state_, candidates_.data(),
                        static_cast<int>(candidates_.size()), index,
                        registered ? 1 : 0, has_secondary_ ? 1 : 0, &primary_,
                        &secondary_) != 0;
  }

  static constexpr const char* kAddresses[] = {"192.0.2.1", "192.0.2.2",
                                               "192.0.2.3", "192.0.2.4"};
  enum { A, B, C, D };
  std::vector<lf_candidate> candidates_;
  lf_state state_ = {};
  bool has_secondary_ = false;
  int primary_ = A;
  int secondary_ = LF_NONE;
};

TEST_F(LocalFailoverTest, S6PrimaryFailsWithoutSecondaryNextCandidate) {
  SetPriorities({10, 20, 30});
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, B);
  EXPECT_EQ(secondary_, LF_NONE);
  EXPECT_TRUE(Report(B));
  EXPECT_EQ(primary_, C);
}

TEST_F(LocalFailoverTest, S6NextSkipsCandidatesReportedFailing) {
  SetPriorities({10, 20, 30});
  EXPECT_FALSE(Report(B));  // Not in use: noted, nothing moves.
  EXPECT_EQ(primary_, A);
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, C);
}

TEST_F(LocalFailoverTest, S7PastTheEndGoesOnFromTheTop) {
  SetPriorities({10, 20, 30});
  primary_ = C;
  EXPECT_TRUE(Report(C));
  EXPECT_EQ(primary_, A);
}

TEST_F(LocalFailoverTest, S7EveryCandidateFailedStartsAgainAtTheTop) {
  SetPriorities({10, 20, 30});
  EXPECT_TRUE(Report(A));  // -> B
  EXPECT_TRUE(Report(B));  // -> C
  EXPECT_TRUE(Report(C));  // All failed: the slate is wiped, from the top.
  EXPECT_EQ(primary_, A);
  EXPECT_EQ(state_.failed, 0u);
  EXPECT_TRUE(Report(A));  // A new search: B is tried again.
  EXPECT_EQ(primary_, B);
}

TEST_F(LocalFailoverTest, S7SingleCandidateFailingStaysWhereItIs) {
  SetPriorities({10});
  EXPECT_FALSE(Report(A));
  EXPECT_EQ(primary_, A);
}

TEST_F(LocalFailoverTest, S10PrimaryFailsSecondaryPromotedAtOnce) {
  SetPriorities({10, 20, 30});
  has_secondary_ = true;
  secondary_ = C;  // Not simply the next one: the promotion is the secondary.
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, C);
  // S9: the new secondary is searched after it, lower or equal priority
  // only: A (failed) and B (higher priority than C) are not.
  EXPECT_EQ(secondary_, LF_NONE);
}

TEST_F(LocalFailoverTest, S10PromotionThenS9NewSecondaryAfterIt) {
  SetPriorities({10, 20, 30, 40});
  has_secondary_ = true;
  secondary_ = B;
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, B);
  EXPECT_EQ(secondary_, C);
}

TEST_F(LocalFailoverTest, S10FailedSecondaryIsNotPromoted) {
  SetPriorities({10, 20, 30});
  has_secondary_ = true;
  secondary_ = B;
  EXPECT_TRUE(Report(B));  // The secondary fails first: C replaces it.
  EXPECT_EQ(secondary_, C);
  EXPECT_TRUE(Report(C));  // And C: none left of lower priority.
  EXPECT_EQ(secondary_, LF_NONE);
  EXPECT_TRUE(Report(A));  // All three failed: from the top again.
  EXPECT_EQ(primary_, A);
  EXPECT_EQ(secondary_, B);
}

TEST_F(LocalFailoverTest, S9SecondaryFailsNextOfLowerOrEqualPriority) {
  SetPriorities({10, 10, 20, 20});
  has_secondary_ = true;
  secondary_ = B;  // Equal priority counts.
  EXPECT_TRUE(Report(B));
  EXPECT_EQ(primary_, A);
  EXPECT_EQ(secondary_, C);
  EXPECT_TRUE(Report(C));
  EXPECT_EQ(secondary_, D);
}

TEST_F(LocalFailoverTest, S9SecondaryNeverOfHigherPriorityThanPrimary) {
  SetPriorities({10, 20, 30});
  has_secondary_ = true;
  primary_ = B;
  secondary_ = C;
  EXPECT_TRUE(Report(C));  // Wrapping past the end finds only A: higher.
  EXPECT_EQ(secondary_, LF_NONE);
}

TEST_F(LocalFailoverTest, S9WithoutSecondaryRegistrationNoneIsChosen) {
  SetPriorities({10, 20, 30});
  has_secondary_ = false;
  secondary_ = B;  // Held from a decision; the profile keeps none now.
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, B);
  EXPECT_EQ(secondary_, LF_NONE);
}

TEST_F(LocalFailoverTest, RegistrationClearsThatCandidatesFailure) {
  SetPriorities({10, 20, 30});
  EXPECT_FALSE(Report(B));
  EXPECT_FALSE(Report(B, /*registered=*/true));
  EXPECT_EQ(state_.failed, 0u);
  EXPECT_TRUE(Report(A));
  EXPECT_EQ(primary_, B);
}

TEST_F(LocalFailoverTest, RegistrationNeverMovesAnything) {
  SetPriorities({10, 20, 30});
  EXPECT_FALSE(Report(C, /*registered=*/true));
  EXPECT_EQ(primary_, A);
}

TEST_F(LocalFailoverTest, IndexOutsideTheCandidatesIsIgnored) {
  SetPriorities({10, 20});
  EXPECT_FALSE(Report(LF_NONE));
  EXPECT_FALSE(Report(2));
  EXPECT_EQ(state_.failed, 0u);
  EXPECT_EQ(primary_, A);
}

// A held primary that is not among the candidates: nothing to go down from
// (and no read before the list: this was candidates[-1]).
TEST_F(LocalFailoverTest, PrimaryNotAmongTheCandidatesMovesNothing) {
  SetPriorities({10, 20, 30});
  has_secondary_ = true;
  primary_ = LF_NONE;
  secondary_ = B;
  EXPECT_FALSE(Report(B));
  EXPECT_EQ(primary_, LF_NONE);
  EXPECT_EQ(secondary_, B);
}

TEST_F(LocalFailoverTest, FindMatchesAddressAndPort) {
  SetPriorities({10, 20});
  const int n = static_cast<int>(candidates_.size());
  EXPECT_EQ(lf_find(candidates_.data(), n, "192.0.2.2", 5060), B);
  EXPECT_EQ(lf_find(candidates_.data(), n, "192.0.2.2", 5061), LF_NONE);
  EXPECT_EQ(lf_find(candidates_.data(), n, "192.0.2.9", 5060), LF_NONE);
}

TEST_F(LocalFailoverTest, OnlyTheFirst64CandidatesAreUsed) {
  std::vector<std::string> addresses;
  for (int i = 0; i < LF_MAX_CANDIDATES + 2; ++i) {
    addresses.push_back("10.0.0." + std::to_string(i));
  }
  candidates_.clear();
  for (const std::string& a : addresses) {
    candidates_.push_back({a.c_str(), 5060, 10});
  }
  const int n = static_cast<int>(candidates_.size());
  EXPECT_EQ(lf_find(candidates_.data(), n, "10.0.0.64", 5060), LF_NONE);
  primary_ = LF_MAX_CANDIDATES - 1;
  EXPECT_TRUE(Report(primary_));
  EXPECT_EQ(primary_, 0);  // Wrapped at 64, never to the 65th.
}

std::string Duration(uint64_t ms) {
  char out[64];
  lf_format_duration(out, sizeof(out), ms);
  return out;
}

TEST(LocalFailoverTextTest, DurationsAsGoPrintsThem) {
  EXPECT_EQ(Duration(0), "0s");
  EXPECT_EQ(Duration(500), "500ms");
  EXPECT_EQ(Duration(2000), "2s");
  EXPECT_EQ(Duration(1500), "1.5s");
  EXPECT_EQ(Duration(1250), "1.25s");
  EXPECT_EQ(Duration(1001), "1.001s");
  EXPECT_EQ(Duration(90000), "1m30s");
  EXPECT_EQ(Duration(600000), "10m0s");
  EXPECT_EQ(Duration(3600000), "1h0m0s");
  EXPECT_EQ(Duration(3661500), "1h1m1.5s");
  EXPECT_EQ(Duration(100 * 3600000ull), "100h0m0s");
}

TEST(LocalFailoverTextTest, FailoverReason) {
  char out[256];
  lf_failover_reason(out, sizeof(out), "192.0.2.11", 5060, 408);
  EXPECT_STREQ(out,
               "the service is unreachable: the device reported REGISTER "
               "with 192.0.2.11:5060 failing (408); moved down the candidates "
               "in its own order (S6-S10, local failover)");
}

TEST(LocalFailoverTextTest, FailoverReasonIPv6InBracketsAndNoResponse) {
  char out[256];
  lf_failover_reason(out, sizeof(out), "2001:db8::11", 5080, 0);
  EXPECT_STREQ(out,
               "the service is unreachable: the device reported REGISTER "
               "with [2001:db8::11]:5080 failing (no response); moved down "
               "the candidates in its own order (S6-S10, local failover)");
}

TEST(LocalFailoverTextTest, DeviceControlReason) {
  char out[256];
  lf_device_control_reason(out, sizeof(out), 600000, "itsp.example.com");
  EXPECT_STREQ(out,
               "the service has been unreachable for 10m0s: control is back "
               "with the device's own resolution of itsp.example.com (S1-S10 "
               "on the device)");
}

TEST(LocalFailoverTextTest, TruncatedLikeSnprintf) {
  char out[8];
  const int full = lf_device_control_reason(out, sizeof(out), 2000, "x.test");
  EXPECT_STREQ(out, "the ser");
  char big[256];
  EXPECT_EQ(full, lf_device_control_reason(big, sizeof(big), 2000, "x.test"));
  EXPECT_EQ(static_cast<size_t>(full), std::string(big).size());
}

// S3: the outbound proxy, else the registrar server, else the proxy server.
TEST(LocalFailoverProfileTest, S3OutboundProxyFirst) {
  lf_server s =
      lf_profile_server("obp.test", 5070, "reg.test", 5080, "proxy.test", 5090);
  EXPECT_STREQ(s.server, "obp.test");
  EXPECT_EQ(s.port, 5070u);
}

TEST(LocalFailoverProfileTest, S3RegistrarServerKeepsItsOwnPort) {
  lf_server s = lf_profile_server("", 0, "reg.test", 0, "proxy.test", 5090);
  EXPECT_STREQ(s.server, "reg.test");
  EXPECT_EQ(s.port, 0u);
}

TEST(LocalFailoverProfileTest, S3ProxyServerTakesTheRegistrarPortFirst) {
  lf_server s = lf_profile_server(nullptr, 0, nullptr, 5080, "proxy.test", 0);
  EXPECT_STREQ(s.server, "proxy.test");
  EXPECT_EQ(s.port, 5080u);
  s = lf_profile_server(nullptr, 0, "", 0, "proxy.test", 5090);
  EXPECT_EQ(s.port, 5090u);
}

}  // namespace
