// End to end: --log_format=json on the real sipresolverd, probing real
// Kamailio registrars with credentials. Every line it writes is one JSON
// object a log pipeline can parse, the events carry their fields, and the
// probe password never appears. A bad --log_format is a usage error.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/standard_services.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {
namespace {

using google::protobuf::Struct;

constexpr char kPassword[] = "secret";  // The registrars' (KamailioConfig).

// Each non-empty line of `output` as a JSON object; a line that is not one
// fails the test.
std::vector<Struct> ParseLines(const std::string& output) {
  std::vector<Struct> objects;
  for (absl::string_view line :
       absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    Struct o;
    const auto status =
        google::protobuf::util::JsonStringToMessage(std::string(line), &o);
    EXPECT_TRUE(status.ok()) << status.ToString() << ": " << line;
    objects.push_back(std::move(o));
  }
  return objects;
}

std::string Str(const Struct& o, const std::string& key) {
  auto it = o.fields().find(key);
  return it == o.fields().end() ? "" : it->second.string_value();
}

class JsonLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("json-log");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    const std::string credentials = dir_.File("credentials");
    FILE* f = fopen(credentials.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fprintf(f, "itsp.test probe-user %s\n", kPassword);
    fclose(f);
    RegistrarStackOptions options;
    options.extra_flags = {"--log_format=json",
                           "--probe_credentials_file=" + credentials};
    auto stack = RegistrarStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }

  // An agent watching the ITSP: its registrar is probed from now on.
  void Watch() {
    watcher_ = std::make_unique<DecisionWatcher>(
        stack_->daemon().stub(),
        WatchRequest("json-log-test", RegistrarStack::kDomain));
  }

  TempDir dir_;
  std::unique_ptr<RegistrarStack> stack_;
  std::unique_ptr<DecisionWatcher> watcher_;
};

TEST_F(JsonLogTest, EveryLineIsAJsonObjectWithTheEventsFields) {
  Subprocess& daemon = stack_->daemon().process();
  Watch();
  // The probe registers with the password; then the registrar stops answering.
  ASSERT_TRUE(daemon.WaitForOutput("\"to\":\"healthy\"", absl::Seconds(10)))
      << daemon.Output();
  stack_->registrar(0).Pause();
  ASSERT_TRUE(daemon.WaitForOutput("\"to\":\"unhealthy\"", absl::Seconds(10)))
      << daemon.Output();
  stack_->registrar(0).Resume();
  daemon.Signal(SIGTERM);
  ASSERT_EQ(daemon.Wait(absl::Seconds(15)), 0);

  const std::string output = daemon.Output();
  EXPECT_EQ(output.find(kPassword), std::string::npos) << output;
  EXPECT_EQ(output.find("probe-user"), std::string::npos) << output;
  bool serving = false, probing = false, down = false, stopped = false;
  for (const Struct& o : ParseLines(output)) {
    EXPECT_TRUE(Str(o, "severity") == "INFO" || Str(o, "severity") == "WARNING")
        << Str(o, "message");
    EXPECT_EQ(Str(o, "time").size(), 24u)
        << Str(o, "time");  // 2026-01-02T03:04:05.678Z
    const std::string message = Str(o, "message");
    if (message == "serving gRPC") {
      serving = true;
      EXPECT_EQ(Str(o, "listen").rfind("127.0.0.1:", 0), 0u)
          << Str(o, "listen");
      EXPECT_EQ(o.fields().at("port").number_value(),
                stack_->daemon().grpc_port());
    } else if (message == "probing") {
      probing = true;
      EXPECT_EQ(o.fields().at("credential_domains").number_value(), 1);
    } else if (message == "endpoint health changed" &&
               Str(o, "to") == "unhealthy") {
      down = true;
      EXPECT_EQ(Str(o, "severity"), "WARNING");
      EXPECT_EQ(Str(o, "endpoint"),
                "127.0.0.1:" + std::to_string(stack_->registrar(0).port()));
      EXPECT_EQ(Str(o, "transport"), "UDP");
      EXPECT_EQ(Str(o, "from"), "healthy");
      const auto& servers = o.fields().at("servers").list_value();
      ASSERT_EQ(servers.values_size(), 1);
      EXPECT_EQ(servers.values(0).string_value(), RegistrarStack::kDomain);
    } else if (message == "stopped") {
      stopped = true;
    }
  }
  EXPECT_TRUE(serving && probing && down && stopped) << output;
}

TEST(JsonLogFlagTest, BadLogFormatIsAUsageError) {
  const CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--log_format=yaml"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("--log_format must be text or json"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
