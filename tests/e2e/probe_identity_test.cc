// End to end: what a probe says about itself (--probe_user_agent,
// --probe_from_user), the things an ITSP allowlists or bans, as a real
// Kamailio registrar sees them; bad values are usage errors.
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/registrar_stack.h"
#include "tests/support/subprocess.h"

namespace sipresolver::testing {
namespace {

// Starts the stack with `flags`, has it probe the registrar, and returns
// the probe REGISTERs the registrar logged (at least one).
std::vector<SipRequestRecord> ProbesSeen(std::vector<std::string> flags) {
  RegistrarStackOptions options;
  options.extra_flags = std::move(flags);
  auto stack = RegistrarStack::Start(options);
  if (!stack.ok()) {
    ADD_FAILURE() << stack.status();
    return {};
  }
  DecisionWatcher watcher(
      (*stack)->daemon().stub(),
      WatchRequest("probe-identity-test", RegistrarStack::kDomain));
  KamailioServer& registrar = (*stack)->registrar(0);
  EXPECT_TRUE(registrar.WaitForRequests("REGISTER", 1, absl::Seconds(10)));
  std::vector<SipRequestRecord> out;
  for (SipRequestRecord& r : registrar.Requests()) {
    if (r.method == "REGISTER") out.push_back(std::move(r));
  }
  return out;
}

TEST(ProbeIdentityTest, DefaultsNameTheProber) {
  std::vector<SipRequestRecord> probes = ProbesSeen({});
  ASSERT_FALSE(probes.empty());
  for (const SipRequestRecord& r : probes) {
    EXPECT_EQ(r.user_agent, "sipresolver-probe/1");
    EXPECT_EQ(r.from_user, "sipresolver-probe");
  }
}

TEST(ProbeIdentityTest, ProbesCarryTheConfiguredUserAgentAndFromUser) {
  std::vector<SipRequestRecord> probes =
      ProbesSeen({"--probe_user_agent=Acme Monitor/2 (ops@example.com)",
                  "--probe_from_user=health.check"});
  ASSERT_FALSE(probes.empty());
  for (const SipRequestRecord& r : probes) {
    EXPECT_EQ(r.user_agent, "Acme Monitor/2 (ops@example.com)");
    EXPECT_EQ(r.from_user, "health.check");
  }
}

TEST(ProbeIdentityTest, EmptyUserAgentSendsNoHeader) {
  std::vector<SipRequestRecord> probes = ProbesSeen({"--probe_user_agent="});
  ASSERT_FALSE(probes.empty());
  EXPECT_EQ(probes[0].user_agent, "<null>");  // The fixture's "no header".
}

// Values that could inject a header line or break the From URI exit with
// status 2 before anything starts, naming the flag.
TEST(ProbeIdentityTest, BadValuesAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"probe_user_agent", "probe/1\r\nX-Injected: 1"},
      {"probe_user_agent", "probe\x01"},
      {"probe_user_agent", std::string(129, 'a')},
      {"probe_from_user", ""},
      {"probe_from_user", "two words"},
      {"probe_from_user", "user@host"},
      {"probe_from_user", "bad%zz"},
      {"probe_from_user", "a\nb"},
      {"probe_from_user", std::string(129, 'u')},
  };
  for (const auto& [flag, value] : cases) {
    // Ports of their own, should a value be accepted by mistake.
    CommandResult r = RunCommand(
        {SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
         "--metrics_listen=127.0.0.1:0", absl::StrCat("--", flag, "=", value)},
        absl::Seconds(20));
    EXPECT_EQ(r.exit_status, 2) << flag << "=" << value;
    EXPECT_NE(r.output.find("--" + flag), std::string::npos) << r.output;
  }
}

// Every RFC 3261 user character, escapes included, passes the flag checks
// (the run then stops at the bad --dns_servers, checked later).
TEST(ProbeIdentityTest, AnyRfc3261UserPartIsAccepted) {
  CommandResult r = RunCommand({SIPRESOLVERD_PATH, "--listen=127.0.0.1:0",
                                "--metrics_listen=127.0.0.1:0",
                                "--probe_from_user=a-b_c.d!~*'()&=+$,;?/%2F",
                                "--dns_servers=not-an-address"},
                               absl::Seconds(20));
  EXPECT_EQ(r.output.find("--probe_from_user"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dns_servers"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sipresolver::testing
