// `sipresolver report` arguments: what a device's hook passes on.
#include "client/report_command.h"
#include "gtest/gtest.h"

namespace sipresolver::cli {
namespace {

TEST(CliReportTest, AddressPortAndCodeMakeOneRegistrationOutcome) {
  auto r = MakeReportRequest({"192.0.2.7:5070", "200"}, "dev-1", "tcp");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->agent_id(), "dev-1");
  ASSERT_EQ(r->registrations_size(), 1);
  EXPECT_EQ(r->registrations(0).server().address(), "192.0.2.7");
  EXPECT_EQ(r->registrations(0).server().port(), 5070u);
  EXPECT_EQ(r->registrations(0).server().transport(), v1::TRANSPORT_TCP);
  EXPECT_EQ(r->registrations(0).status_code(), 200u);
}

TEST(CliReportTest, Ipv6InBracketsAndNoResponse) {
  auto r = MakeReportRequest({"[2001:db8::7]:5060", "0"}, "dev-1", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->registrations(0).server().address(), "2001:db8::7");
  EXPECT_EQ(r->registrations(0).status_code(), 0u);
  EXPECT_EQ(r->registrations(0).error(), "no final response");
}

TEST(CliReportTest, BadArgumentsNameWhatIsWrong) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"192.0.2.7:5060"}, "ADDRESS:PORT and CODE"},
      {{"192.0.2.7", "200"}, "bad server"},
      {{"2001:db8::7:5060", "200"}, "bad server"},
      {{"192.0.2.7:70000", "200"}, "bad server"},
      {{"192.0.2.7:5060", "99"}, "bad code"},
      {{"192.0.2.7:5060", "ok"}, "bad code"},
  };
  for (const auto& [args, text] : bad) {
    auto r = MakeReportRequest(args, "dev-1", "");
    ASSERT_FALSE(r.ok()) << args[0];
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status();
  }
  EXPECT_FALSE(MakeReportRequest({"192.0.2.7:5060", "200"}, "d", "sctp").ok());
}

}  // namespace
}  // namespace sipresolver::cli
