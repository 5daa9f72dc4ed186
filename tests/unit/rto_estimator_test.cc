// The per-endpoint retransmission timeout (RFC 6298) that decides when a
// probe is a miss.
#include "lib/health/rto_estimator.h"

#include "gtest/gtest.h"

namespace sipresolver::health {
namespace {

const RtoOptions kOptions{absl::Milliseconds(50), absl::Seconds(1)};

TEST(RtoEstimatorTest, WithoutSamplesTheCeilingApplies) {
  RtoEstimator rto(kOptions);
  EXPECT_FALSE(rto.has_samples());
  EXPECT_EQ(rto.rto(), absl::Seconds(1));
}

TEST(RtoEstimatorTest, FirstSampleSetsSrttAndHalfOfItAsVariance) {
  RtoEstimator rto(kOptions);
  rto.Sample(absl::Milliseconds(100));  // RFC 6298 2.2.
  EXPECT_EQ(rto.srtt(), absl::Milliseconds(100));
  EXPECT_EQ(rto.rttvar(), absl::Milliseconds(50));
  EXPECT_EQ(rto.rto(), absl::Milliseconds(300));
}

TEST(RtoEstimatorTest, LaterSamplesMoveByAnEighthAndAQuarter) {
  RtoEstimator rto(kOptions);
  rto.Sample(absl::Milliseconds(100));
  rto.Sample(absl::Milliseconds(180));  // RFC 6298 2.3.
  EXPECT_EQ(rto.rttvar(), absl::Milliseconds(57.5));
  EXPECT_EQ(rto.srtt(), absl::Milliseconds(110));
}

TEST(RtoEstimatorTest, FastServersGetTheFloor) {
  RtoEstimator rto(kOptions);
  for (int i = 0; i < 10; ++i) rto.Sample(absl::Microseconds(300));
  EXPECT_EQ(rto.rto(), absl::Milliseconds(50));
}

// A far ITSP: the RTO follows its round trip instead of a fixed timeout.
TEST(RtoEstimatorTest, SlowSteadyServerGetsAnRtoJustAboveItsRoundTrip) {
  RtoEstimator rto(kOptions);
  for (int i = 0; i < 30; ++i) rto.Sample(absl::Milliseconds(300));
  EXPECT_GT(rto.rto(), absl::Milliseconds(300));
  EXPECT_LT(rto.rto(), absl::Milliseconds(310));
}

TEST(RtoEstimatorTest, NeverAboveTheCeiling) {
  RtoEstimator rto(kOptions);
  rto.Sample(absl::Seconds(3));
  EXPECT_EQ(rto.rto(), absl::Seconds(1));
}

TEST(RtoEstimatorTest, BackoffDoublesUpToTheCeilingUntilTheNextSample) {
  RtoEstimator rto(kOptions);
  for (int i = 0; i < 10; ++i) rto.Sample(absl::Microseconds(300));
  rto.Backoff();
  EXPECT_EQ(rto.rto(), absl::Milliseconds(100));
  rto.Backoff();
  EXPECT_EQ(rto.rto(), absl::Milliseconds(200));
  for (int i = 0; i < 40; ++i) rto.Backoff();
  EXPECT_EQ(rto.rto(), absl::Seconds(1));
  rto.Sample(absl::Microseconds(300));
  EXPECT_EQ(rto.rto(), absl::Milliseconds(50));
}

}  // namespace
}  // namespace sipresolver::health
