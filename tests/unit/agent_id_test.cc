// Without --agent_id both agents give themselves the same id, derived from
// the machine id (client/agent_id.h), never the host name.
#include <unistd.h>

#include <fstream>

#include "client/default_agent_id.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

extern "C" {
#include "setup.h"
}

namespace sipresolver {
namespace {

TEST(AgentIdTest, BothAgentsDeriveTheSameIdFromTheMachineId) {
  auto dir = testing::TempDir::Create("agent_id_test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->File("machine-id");
  std::ofstream(path) << "3d1219c7c4c5404aaa1f6d2a48adfda4\n";
  absl::StatusOr<std::string> cpp = client::DefaultAgentId(path);
  ASSERT_TRUE(cpp.ok()) << cpp.status();
  char c[AGENT_ID_SIZE];
  ASSERT_EQ(setup_derive_agent_id(path.c_str(), c), 0);
  EXPECT_EQ(*cpp, c);
  EXPECT_EQ(cpp->size(), 26u);
  EXPECT_EQ(cpp->substr(0, 2), "m-");
  // Stable, and the machine id itself is not in it.
  EXPECT_EQ(*client::DefaultAgentId(path), *cpp);
  EXPECT_EQ(cpp->find("3d1219c7"), std::string::npos);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_NE(*cpp, host);
  // Another machine, another id.
  std::ofstream(path) << "0123456789abcdef0123456789abcdef\n";
  EXPECT_NE(*client::DefaultAgentId(path), *cpp);
}

TEST(AgentIdTest, NoMachineIdMeansAgentIdIsRequired) {
  auto dir = testing::TempDir::Create("agent_id_test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->File("machine-id");
  std::ofstream(path) << "\n";  // Empty, as in many container images.
  for (const std::string& p : {path, dir->File("none")}) {
    absl::StatusOr<std::string> id = client::DefaultAgentId(p);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find("--agent_id is required"),
              std::string::npos);
    char c[AGENT_ID_SIZE];
    EXPECT_EQ(setup_derive_agent_id(p.c_str(), c), -1);
  }
}

}  // namespace
}  // namespace sipresolver
