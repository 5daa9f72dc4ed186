// The device-sized agent (C, client/device) and `sipresolver watch` (C++)
// must be impossible to tell apart: the same decisions handed on, printed the
// same way. Differential tests over many generated decisions (fixed seed):
// the C code against the C++ code it mirrors.
#include <algorithm>
#include <cstring>
#include <random>

#include "client/command_line.h"
#include "client/decision_line.h"
#include "client/decision_policy.h"
#include "client/hook_contract.h"
#include "client/local_decisions.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sipresolver/v1/sipresolver.pb.h"

extern "C" {
#include "local.h"
#include "output.h"
#include "policy.h"
}

namespace sipresolver {
namespace {

// The C message for a C++ one, through the wire format.
Decision* ToC(const v1::Decision& d) {
  const std::string bytes = d.SerializeAsString();
  return decision_unpack(reinterpret_cast<const uint8_t*>(bytes.data()),
                         bytes.size());
}

v1::Decision FromC(const Decision* d) {
  std::string bytes(protobuf_c_message_get_packed_size(&d->base), '\0');
  protobuf_c_message_pack(&d->base, reinterpret_cast<uint8_t*>(bytes.data()));
  v1::Decision out;
  EXPECT_TRUE(out.ParseFromString(bytes));
  return out;
}

struct CDecision {
  explicit CDecision(const v1::Decision& d) : d(ToC(d)) {}
  ~CDecision() { message_free(d); }
  Decision* release() { return std::exchange(d, nullptr); }
  Decision* d;
};

// Decisions of every shape an agent meets: any state and assurance, a few
// candidates on a few ports (IPv4 and IPv6), primaries and secondaries among
// them or not, heartbeats, TTLs, reasons with characters worth escaping.
class DecisionMaker {
 public:
  explicit DecisionMaker(uint32_t seed) : random_(seed) {}

  v1::Decision Next() {
    v1::Decision d;
    d.set_version(Pick(4) == 0 ? 0 : 1'700'000'000'000'000ULL + Pick(1000));
    d.set_state(static_cast<v1::DecisionState>(Pick(4)));
    d.set_assurance(static_cast<v1::Assurance>(Pick(4)));
    d.set_probe_path_suspect(Pick(5) == 0);
    d.set_heartbeat(Pick(6) == 0);
    const int n = static_cast<int>(Pick(5));
    for (int i = 0; i < n; ++i) *d.add_candidates() = Server();
    if (Pick(4) != 0) *d.mutable_primary() = AnyOf(d);
    if (Pick(3) == 0) *d.mutable_secondary() = AnyOf(d);
    for (int i = 0, k = static_cast<int>(Pick(3)); i < k; ++i)
      *d.add_primary_fallback() = AnyOf(d);
    if (Pick(3) == 0) {
      d.mutable_keep_alive_target()->set_address(Address());
      d.mutable_keep_alive_target()->set_port(5060 + Pick(3));
      d.mutable_keep_alive_target()->set_transport(
          static_cast<v1::Transport>(Pick(4)));
    }
    if (Pick(2) == 0) d.set_reason(Pick(2) ? "S6: <pbx1> \"up\"\tok" : "S8");
    if (Pick(3) == 0) d.mutable_generated_at()->set_seconds(1'800'000'000);
    return d;
  }

  // `d` with one thing changed, or only what changes nothing for a device.
  v1::Decision Mutate(v1::Decision d) {
    switch (Pick(7)) {
      case 0:
        d.set_version(d.version() + 1);
        break;
      case 1:
        d.set_reason("other");
        break;
      case 2:
        if (d.has_primary()) d.mutable_primary()->set_ttl_seconds(Pick(99));
        break;
      case 3:
        if (d.has_primary()) d.mutable_primary()->set_port(5069);
        break;
      case 4:
        d.set_assurance(static_cast<v1::Assurance>(Pick(4)));
        break;
      case 5:
        for (v1::Candidate& c : *d.mutable_candidates())
          c.set_ttl_seconds(Pick(99));
        break;
      default:
        d.clear_secondary();
    }
    return d;
  }

 private:
  uint32_t Pick(uint32_t n) {
    return std::uniform_int_distribution<uint32_t>(0, n - 1)(random_);
  }
  std::string Address() {
    return Pick(4) == 0 ? "2001:db8::1" : "192.0.2." + std::to_string(Pick(3));
  }
  v1::Candidate Server() {
    v1::Candidate c;
    c.set_address(Address());
    c.set_port(5060 + Pick(3));
    c.set_priority(10 * Pick(3));
    c.set_weight(Pick(2) * 10);
    if (Pick(2)) c.set_target(Pick(2) ? "pbx.test" : c.address());
    c.set_ttl_seconds(Pick(300));
    return c;
  }
  v1::Candidate AnyOf(const v1::Decision& d) {
    if (d.candidates_size() == 0 || Pick(5) == 0) return Server();
    return d.candidates(static_cast<int>(Pick(d.candidates_size())));
  }
  std::mt19937 random_;
};

constexpr int kCases = 3000;

TEST(AgentParityTest, DecisionLineIsWatchs) {
  DecisionMaker maker(1);
  for (int i = 0; i < kCases; ++i) {
    const v1::Decision d = maker.Next();
    CDecision c(d);
    ASSERT_NE(c.d, nullptr);
    struct buf line = BUF_INIT;
    format_decision_line(c.d, &line);
    EXPECT_EQ(std::string(line.data, line.len), cli::FormatDecisionLine(d))
        << d.DebugString();
    buf_free(&line);
  }
}

TEST(AgentParityTest, SameDecisionIsWatchs) {
  DecisionMaker maker(2);
  for (int i = 0; i < kCases; ++i) {
    const v1::Decision a = maker.Next();
    const v1::Decision b = maker.Mutate(a);
    CDecision ca(a), cb(b);
    EXPECT_EQ(decision_same(ca.d, cb.d) != 0, client::SameDecision(a, b))
        << a.DebugString() << "\nagainst\n"
        << b.DebugString();
  }
}

// The same sequence of streams and decisions leads both policies to hold
// the same decisions.
TEST(AgentParityTest, PolicyIsTheAgentLibrarys) {
  DecisionMaker maker(3);
  std::mt19937 random(4);
  client::DecisionPolicy cpp;
  struct policy c = {0};
  std::optional<v1::Decision> held;
  for (int i = 0; i < kCases; ++i) {
    if (random() % 5 == 0) {
      cpp.OnNewStream();
      policy_new_stream(&c);
    }
    const v1::Decision incoming =
        held && random() % 2 ? maker.Mutate(*held) : maker.Next();
    std::optional<v1::Decision> want = cpp.Accept(held, incoming);
    CDecision c_held(held.value_or(v1::Decision()));
    Decision* got = policy_accept(&c, held ? c_held.d : nullptr,
                                  CDecision(incoming).release());
    ASSERT_EQ(got != nullptr, want.has_value()) << incoming.DebugString();
    if (got) {
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(FromC(got), *want))
          << FromC(got).DebugString() << "\nwanted\n"
          << want->DebugString();
      held = want;
    }
    message_free(got);
  }
}

// Profiles of every shape the contract names: outbound proxy, registrar,
// ports or none, each transport, S9 on or off.
v1::ItspProfile MakeProfile(std::mt19937& random) {
  v1::ItspProfile p;
  p.set_proxy_server("itsp.test");
  if (random() % 2) p.set_proxy_server_port(5070);
  if (random() % 3 == 0) p.set_registrar_server("registrar.test");
  if (random() % 3 == 0) p.set_registrar_server_port(5071);
  if (random() % 3 == 0) p.set_outbound_proxy("proxy.test");
  if (random() % 2) p.set_outbound_proxy_port(5072);
  p.set_proxy_server_transport(static_cast<v1::Transport>(random() % 4));
  p.set_proxy_server_redundancy(random() % 4 != 0);
  p.set_secondary_registration(random() % 2);
  return p;
}

struct CProfile {
  explicit CProfile(const v1::ItspProfile& p) {
    const std::string bytes = p.SerializeAsString();
    profile = sipresolver__v1__itsp_profile__unpack(
        nullptr, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  }
  ~CProfile() { message_free(profile); }
  ItspProfile* profile;
};

TEST(AgentParityTest, HookEnvironmentAndDecisionFileAreWatchs) {
  DecisionMaker maker(5);
  std::mt19937 random(6);
  for (int i = 0; i < kCases; ++i) {
    const v1::Decision d = maker.Next();
    const v1::ItspProfile profile = MakeProfile(random);
    const bool agent = random() % 2;
    CDecision c(d);
    CProfile cp(profile);
    struct buf env = BUF_INIT;
    int n = 0;
    hook_environment(c.d, agent ? SOURCE_AGENT : SOURCE_SERVICE, cp.profile,
                     "/run/d.json", &env, &n);
    std::vector<std::string> got;
    for (const char* e = env.data; got.size() < static_cast<size_t>(n);
         e += strlen(e) + 1)
      got.emplace_back(e);
    buf_free(&env);
    std::vector<std::string> want =
        cli::HookEnvironment(d,
                             agent ? client::DecisionSource::kAgent
                                   : client::DecisionSource::kService,
                             profile, "/run/d.json", std::nullopt);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << d.DebugString() << profile.DebugString();

    absl::StatusOr<std::string> json = cli::FormatJson(d);
    ASSERT_TRUE(json.ok());
    struct buf line = BUF_INIT, file = BUF_INIT;
    format_decision_json(c.d, &line);
    format_decision_file(c.d, agent ? SOURCE_AGENT : SOURCE_SERVICE, &file);
    EXPECT_EQ(std::string(line.data, line.len), *json);
    EXPECT_EQ(
        std::string(file.data, file.len),
        cli::DecisionFile(*json, agent ? client::DecisionSource::kAgent
                                       : client::DecisionSource::kService));
    buf_free(&line);
    buf_free(&file);
  }
}

// Without the service, the same reports move both agents the same way.
TEST(AgentParityTest, LocalDecisionsAreTheAgentLibrarys) {
  DecisionMaker maker(7);
  std::mt19937 random(8);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (int i = 0; i < kCases / 10; ++i) {
    const v1::ItspProfile profile = MakeProfile(random);
    client::LocalDecisions cpp(profile, absl::ZeroDuration());
    cpp.ServiceLost(now);
    lf_state c_state = {};
    CProfile cp(profile);
    v1::Decision held = maker.Next();
    held.set_state(v1::DECISION_STATE_ACTIVE);
    held.set_heartbeat(false);
    for (int step = 0; step < 12; ++step) {
      const v1::Candidate& target =
          held.candidates_size() && random() % 5
              ? held.candidates(random() % held.candidates_size())
              : held.primary();
      const uint32_t code = random() % 3 == 0 ? 200 : (random() % 2) * 408;
      std::optional<v1::Decision> want =
          cpp.OnReport(held, target.address(), target.port(), code, now);
      device_report report = {};
      snprintf(report.address, sizeof report.address, "%s",
               target.address().c_str());
      report.port = target.port();
      report.code = code;
      CDecision c_held(held);
      Decision* got = local_on_report(&c_state, c_held.d, cp.profile, &report);
      ASSERT_EQ(got != nullptr, want.has_value()) << held.DebugString();
      if (!got) continue;
      v1::Decision got_cpp = FromC(got);
      message_free(got);
      got_cpp.clear_generated_at();
      want->clear_generated_at();
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(got_cpp, *want))
          << got_cpp.DebugString() << "\nwanted\n"
          << want->DebugString();
      held = *want;
    }
  }
}

}  // namespace
}  // namespace sipresolver
