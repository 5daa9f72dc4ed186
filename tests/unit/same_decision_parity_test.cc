// "The same decision" has one meaning on both ends of the wire: what the
// engine counts as a change (decision::SameContent, which bumps the version
// agents see) is exactly what an agent counts as one (client::SameDecision,
// which runs the hook). Checked over every field a decision has, each
// changed alone, through the real conversion to the wire message.
#include <functional>
#include <string>
#include <vector>

#include "client/decision_policy.h"
#include "gtest/gtest.h"
#include "lib/decision/decision.h"
#include "server/decision_convert.h"

namespace sipresolver {
namespace {

using decision::Decision;

dns::Candidate Candidate(const std::string& address, uint16_t priority) {
  dns::Candidate c;
  c.target = "pbx.itsp.test";
  c.address = address;
  c.port = 5060;
  c.priority = priority;
  c.weight = 10;
  c.source = dns::CandidateSource::kSrv;
  c.ttl = absl::Seconds(300);
  return c;
}

Decision Base() {
  Decision d;
  d.version = 7;
  d.state = decision::DecisionState::kActive;
  d.primary = Candidate("192.0.2.1", 10);
  d.primary_health = health::HealthState::kHealthy;
  d.secondary = Candidate("192.0.2.2", 20);
  d.primary_fallback = {Candidate("192.0.2.9", 5)};
  d.secondary_fallback = {Candidate("192.0.2.3", 20)};
  d.candidates = {*d.primary, *d.secondary, Candidate("192.0.2.3", 20)};
  d.keep_alive = decision::KeepAliveTarget{"pbx.itsp.test", "192.0.2.1", 5060};
  d.assurance = decision::Assurance::kProbes;
  d.reason = "S6: first working candidate";
  return d;
}

struct Change {
  std::string what;
  std::function<void(Decision&)> apply;
};

std::vector<Change> ContentChanges() {
  return {
      {"state",
       [](Decision& d) {
         d.state = decision::DecisionState::kNoWorkingServer;
       }},
      {"primary address",
       [](Decision& d) { d.primary->address = "192.0.2.7"; }},
      {"primary port", [](Decision& d) { d.primary->port = 5070; }},
      {"primary target", [](Decision& d) { d.primary->target = "other.test"; }},
      {"primary priority", [](Decision& d) { d.primary->priority = 11; }},
      {"primary weight", [](Decision& d) { d.primary->weight = 11; }},
      {"primary health",
       [](Decision& d) { d.primary_health = health::HealthState::kUnknown; }},
      {"no secondary", [](Decision& d) { d.secondary.reset(); }},
      {"secondary address",
       [](Decision& d) { d.secondary->address = "192.0.2.8"; }},
      {"primary fallback", [](Decision& d) { d.primary_fallback.clear(); }},
      {"secondary fallback", [](Decision& d) { d.secondary_fallback.clear(); }},
      {"candidates", [](Decision& d) { d.candidates.pop_back(); }},
      {"candidate order",
       [](Decision& d) { std::swap(d.candidates[0], d.candidates[1]); }},
      {"keep-alive port", [](Decision& d) { d.keep_alive->port = 3478; }},
      {"no keep-alive", [](Decision& d) { d.keep_alive.reset(); }},
      {"next search",
       [](Decision& d) { d.next_search = absl::FromUnixSeconds(1000); }},
      {"assurance",
       [](Decision& d) { d.assurance = decision::Assurance::kDeviceReports; }},
      {"probe path suspect", [](Decision& d) { d.probe_path_suspect = true; }},
  };
}

std::vector<Change> BookkeepingChanges() {
  return {
      {"version", [](Decision& d) { d.version = 8; }},
      {"reason", [](Decision& d) { d.reason = "renewed"; }},
      {"primary TTL", [](Decision& d) { d.primary->ttl = absl::Seconds(12); }},
      {"secondary TTL",
       [](Decision& d) { d.secondary->ttl = absl::Seconds(12); }},
      {"candidate TTLs",
       [](Decision& d) {
         for (dns::Candidate& c : d.candidates) c.ttl = absl::Seconds(1);
         for (dns::Candidate& c : d.primary_fallback) c.ttl = absl::Seconds(1);
         for (dns::Candidate& c : d.secondary_fallback)
           c.ttl = absl::Seconds(1);
       }},
  };
}

v1::Decision OnTheWire(const Decision& d, absl::Time wall_now) {
  v1::Decision out;
  const absl::Time clock_now = absl::FromUnixSeconds(900);
  server::ToDecision(d, d.version, clock_now, wall_now, out);
  return out;
}

TEST(SameDecisionParityTest, EveryContentChangeIsAChangeOnBothEnds) {
  const Decision base = Base();
  for (const Change& change : ContentChanges()) {
    Decision changed = base;
    change.apply(changed);
    EXPECT_FALSE(decision::SameContent(base, changed)) << change.what;
    EXPECT_FALSE(client::SameDecision(OnTheWire(base, absl::Now()),
                                      OnTheWire(changed, absl::Now())))
        << change.what;
  }
}

TEST(SameDecisionParityTest, BookkeepingIsNoChangeOnEitherEnd) {
  const Decision base = Base();
  for (const Change& change : BookkeepingChanges()) {
    Decision changed = base;
    change.apply(changed);
    EXPECT_TRUE(decision::SameContent(base, changed)) << change.what;
    // Sent at another time too (generated_at), as a renewal is.
    EXPECT_TRUE(
        client::SameDecision(OnTheWire(base, absl::FromUnixSeconds(2000)),
                             OnTheWire(changed, absl::FromUnixSeconds(2030))))
        << change.what;
  }
}

}  // namespace
}  // namespace sipresolver
