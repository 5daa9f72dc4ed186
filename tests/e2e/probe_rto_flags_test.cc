// sipresolverd refuses an RTO floor it cannot use, naming the flag and the
// value, before it serves anything.
#include <string>

#include "gtest/gtest.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

CommandResult RunWith(const std::string& flag) {
  return RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                     "--metrics_listen=127.0.0.1:0", "--probe_timeout=1s",
                     flag});
}

TEST(ProbeRtoFlagsTest, MinRtoAboveTheTimeoutIsAUsageError) {
  CommandResult r = RunWith("--probe_min_rto=2s");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--probe_min_rto must be > 0 and at most "
                          "--probe_timeout (1s), got 2s"),
            std::string::npos)
      << r.output;
}

TEST(ProbeRtoFlagsTest, ZeroMinRtoIsAUsageError) {
  CommandResult r = RunWith("--probe_min_rto=0");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--probe_min_rto"), std::string::npos) << r.output;
}

TEST(ProbeRtoFlagsTest, NegativeEdgeIntervalIsAUsageError) {
  CommandResult r = RunWith("--probe_edge_interval=-1s");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--probe_edge_interval must be >= 0"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
