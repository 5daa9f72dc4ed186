// The keys and records replicas share through etcd (server/fleet_records.h):
// what a replica writes it reads back, and anything else from etcd is
// refused, not misread.
#include "server/fleet_records.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sipresolver::server {
namespace {

TEST(FleetKeyTest, TakesTheThreeKindsApart) {
  const std::string p = "/sipresolver/";
  std::optional<FleetKey> k = ParseFleetKey(p, "/sipresolver/replicas/pod-1");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, "replicas");
  EXPECT_EQ(k->replica, "pod-1");

  k = ParseFleetKey(p, WantedKey(p, "udp:192.0.2.1:5060", "pod-2"));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, "wanted");
  EXPECT_EQ(k->endpoint_key, "udp:192.0.2.1:5060");
  EXPECT_EQ(k->replica, "pod-2");

  k = ParseFleetKey(p, HealthKey(p, "tls:[2001:db8::1]:5061"));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, "health");
  EXPECT_EQ(k->endpoint_key, "tls:[2001:db8::1]:5061");

  for (const char* other :
       {"/other/replicas/pod-1", "/sipresolver/replicas/", "/sipresolver/x/y",
        "/sipresolver/wanted/udp:192.0.2.1:5060", "/sipresolver/replicas/a/b",
        "/sipresolver/health//"}) {
    EXPECT_FALSE(ParseFleetKey(p, other).has_value()) << other;
  }
}

TEST(HealthRecordTest, DecodesWhatItEncodes) {
  HealthRecord r;
  r.origin = "pod-1";
  r.health.counters = {health::HealthState::kHealthy, 0, 1};
  r.health.last_response_code = 0;
  r.health.last_error = "no answer within 50ms (RTO)\nsecond line";
  r.health.latency = absl::Microseconds(1234);
  r.at = absl::FromUnixMillis(1800000000123);
  absl::StatusOr<HealthRecord> back = DecodeHealthRecord(EncodeHealthRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->origin, "pod-1");
  EXPECT_EQ(back->at, r.at);
  EXPECT_TRUE(back->health.SameVerdict(r.health));
  EXPECT_EQ(back->health.last_error, r.health.last_error);
  EXPECT_EQ(back->health.latency, r.health.latency);
}

TEST(HealthRecordTest, UnknownNamesAreIgnoredBadValuesRefused) {
  EXPECT_TRUE(
      DecodeHealthRecord("origin=a\nstate=unhealthy\nnew_field=1\n").ok());
  for (const char* bad :
       {"", "state=healthy\n", "origin=a\n", "origin=a\nstate=sick\n",
        "origin=a\nstate=healthy\nfailures=-1\n",
        "origin=a\nstate=healthy\ncode=x\n", "origin=a\nstate=healthy\nnoeq\n",
        "origin=\nstate=healthy\n"}) {
    EXPECT_EQ(DecodeHealthRecord(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_FALSE(DecodeHealthRecord("origin=a\nstate=healthy\nerror=" +
                                  std::string(5000, 'x') + "\n")
                   .ok());
}

TEST(EvidenceRecordTest, DecodesWhatItEncodesWithTheAgeAtReading) {
  const absl::Time written = absl::FromUnixSeconds(1800000000);
  std::vector<health::SharedReport> reports = {
      {health::Reporter::Of("dev1", "conn1"), true, absl::Seconds(3)},
      {health::Reporter::Of("dev2", "conn2"), false, absl::ZeroDuration()}};
  const std::string text = EncodeReports(reports, written);
  absl::StatusOr<std::vector<health::SharedReport>> back =
      DecodeReports(text, written + absl::Seconds(10));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].reporter.agent, reports[0].reporter.agent);
  EXPECT_EQ((*back)[0].reporter.client, reports[0].reporter.client);
  EXPECT_TRUE((*back)[0].registered);
  EXPECT_EQ((*back)[0].age, absl::Seconds(13));
  EXPECT_FALSE((*back)[1].registered);
  // A writer's clock ahead of ours: new, not from the future.
  back = DecodeReports(text, written - absl::Seconds(60));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[1].age, absl::ZeroDuration());

  std::optional<FleetKey> k =
      ParseFleetKey("/p/", EvidenceKey("/p/", "udp:192.0.2.1:5060", "pod-3"));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, "evidence");
  EXPECT_EQ(k->replica, "pod-3");
}

TEST(EvidenceRecordTest, RefusesAnythingElse) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  for (const char* bad : {"x\n", "1 2 1\n", "1 2 2 3\n", "g 2 1 3\n",
                          "1 2 1 x\n", "1 2 1 3 4\n"}) {
    EXPECT_EQ(DecodeReports(bad, now).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  std::string many;
  for (int i = 0; i < 65; ++i) absl::StrAppend(&many, i + 1, " 1 1 0\n");
  EXPECT_FALSE(DecodeReports(many, now).ok());
}

}  // namespace
}  // namespace sipresolver::server
