// `sipresolver servers` against the real sipresolverd probing a real
// Kamailio registrar found through a real DNS server: what an operator sees
// once an agent watches a profile that needs the server (S1, S6).
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/registrar_stack.h"

namespace sipresolver::testing {
namespace {

class CliServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistrarStackOptions options;
    options.srv_target = "pbx1.test";
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    kamailio_ = &stack_->registrar(0);  // Challenges REGISTER: 401.
    daemon_ = &stack_->daemon();
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(),
                {SIPRESOLVER_CLI_PATH, "--server=" + daemon_->grpc_address()});
    return RunCommand(args);
  }

  // The table row (split on blanks) of the registrar's endpoint; empty if
  // the table has none.
  std::vector<std::string> RowOf(const std::string& table) {
    const std::string port = std::to_string(kamailio_->port());
    for (absl::string_view line : absl::StrSplit(table, '\n')) {
      std::vector<std::string> cells =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (cells.size() > 1 && cells[0] == "127.0.0.1" && cells[1] == port) {
        return cells;
      }
    }
    return {};
  }

  // Runs `servers` until the registrar's row shows `state`; returns the
  // last table printed.
  std::string WaitForState(const std::string& state) {
    std::string table;
    const bool shown = Eventually([&] {
      CommandResult r = Cli({"servers"});
      EXPECT_EQ(r.exit_status, 0) << r.output;
      table = r.output;
      const std::vector<std::string> row = RowOf(table);
      return row.size() > 3 && row[3] == state;
    });
    if (!shown) ADD_FAILURE() << "never " << state << ":\n" << table;
    return table;
  }

  v1::ListServersResponse ServersJson() {
    CommandResult r = Cli({"servers", "--json"});
    EXPECT_EQ(r.exit_status, 0) << r.output;
    v1::ListServersResponse response;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(r.output, &response).ok())
        << r.output;
    return response;
  }

  // An agent watching itsp.test: its registrar is probed from now on.
  void Watch() {
    watcher_ = std::make_unique<DecisionWatcher>(
        daemon_->stub(), WatchRequest("cli-servers-test", "itsp.test"));
  }

  std::unique_ptr<RegistrarStack> stack_;
  KamailioServer* kamailio_ = nullptr;  // Owned by stack_, as is daemon_.
  SipresolverdProcess* daemon_ = nullptr;
  std::unique_ptr<DecisionWatcher> watcher_;
};

TEST_F(CliServersTest, NothingWatchedNothingListed) {
  ASSERT_EQ(Cli({"resolve", "itsp.test"}).exit_status, 0);  // Probes nothing.
  CommandResult r = Cli({"servers"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output,
            "No servers are probed: a server is probed while an agent watches "
            "a profile that\nneeds it and --probe_allow allows it.\n");
  r = Cli({"servers", "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"probe_healthy_ratio\":1}\n");
}

TEST_F(CliServersTest, S6_TableShowsTheResolvedRegistrarHealthy) {
  Watch();
  const std::string table = WaitForState("healthy");
  std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_GE(lines.size(), 2u) << table;
  EXPECT_EQ(std::vector<std::string>(
                absl::StrSplit(lines[0], ' ', absl::SkipEmpty())),
            (std::vector<std::string>{"ADDRESS", "PORT", "TRANSPORT", "STATE",
                                      "LAST", "LATENCY", "SINCE", "DOMAINS"}))
      << table;
  // 127.0.0.1 PORT udp healthy 401 0.21ms 0s ago itsp.test
  const std::vector<std::string> row = RowOf(table);
  ASSERT_EQ(row.size(), 9u) << table;
  EXPECT_EQ(row[2], "udp");
  EXPECT_EQ(row[4], "401") << table;  // The challenge: a working registrar.
  EXPECT_TRUE(absl::EndsWith(row[5], "ms")) << table;
  EXPECT_TRUE(absl::EndsWith(row[6], "s")) << table;
  EXPECT_EQ(row[7], "ago");
  EXPECT_EQ(row[8], "itsp.test");
}

TEST_F(CliServersTest, S6_JsonCarriesTheHealthFields) {
  Watch();
  WaitForState("healthy");
  const v1::ListServersResponse list = ServersJson();
  ASSERT_EQ(list.servers_size(), 1);
  const v1::ServerStatus& s = list.servers(0);
  EXPECT_EQ(s.endpoint().address(), "127.0.0.1");
  EXPECT_EQ(s.endpoint().port(), kamailio_->port());
  EXPECT_EQ(s.endpoint().transport(), v1::TRANSPORT_UDP);
  ASSERT_EQ(s.domains_size(), 1);
  EXPECT_EQ(s.domains(0), "itsp.test");
  EXPECT_EQ(s.health().state(), v1::HEALTH_STATE_HEALTHY);
  EXPECT_EQ(s.health().last_response_code(), 401u);
  EXPECT_EQ(s.health().via_received(), "127.0.0.1");
  EXPECT_TRUE(s.health().has_latency_ewma());
  EXPECT_GT(s.health().last_change().seconds(), 1700000000);  // Wall clock.

  // Proto field names and enum names, one line.
  CommandResult r = Cli({"servers", "--json"});
  EXPECT_NE(r.output.find("\"state\":\"HEALTH_STATE_HEALTHY\""),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"last_response_code\":401"), std::string::npos);
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;
}

// S1: a registrar that stops answering shows as unhealthy, with what went
// wrong under LAST.
TEST_F(CliServersTest, S1_StoppedRegistrarShowsUnhealthyWithTheError) {
  Watch();
  WaitForState("healthy");
  kamailio_->Pause();
  const std::string table = WaitForState("unhealthy");
  const v1::ListServersResponse list = ServersJson();
  kamailio_->Resume();
  ASSERT_EQ(list.servers_size(), 1);
  const std::string& error = list.servers(0).health().last_error();
  ASSERT_FALSE(error.empty());
  EXPECT_EQ(list.servers(0).health().last_response_code(), 0u);
  EXPECT_NE(table.find(error), std::string::npos) << table << "\n" << error;
}

TEST_F(CliServersTest, ArgumentIsUsageError) {
  CommandResult r = Cli({"servers", "itsp.test"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("servers: unexpected argument 'itsp.test'"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
