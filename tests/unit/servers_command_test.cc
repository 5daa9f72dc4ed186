// `sipresolver servers` without a server: its arguments, the table of the
// probed endpoints and the JSON of the response.
#include "client/servers_command.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "client/command_line.h"
#include "client/transport_name.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace sipresolver::cli {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::ServerStatus MakeServer(const std::string& address, uint32_t port,
                            v1::Transport transport, v1::HealthState state,
                            uint32_t code, const std::string& error,
                            absl::Duration ewma, absl::Duration age,
                            const std::vector<std::string>& domains) {
  v1::ServerStatus s;
  s.mutable_endpoint()->set_address(address);
  s.mutable_endpoint()->set_port(port);
  s.mutable_endpoint()->set_transport(transport);
  for (const std::string& d : domains) s.add_domains(d);
  v1::EndpointHealth& h = *s.mutable_health();
  h.set_state(state);
  h.set_last_response_code(code);
  h.set_last_error(error);
  if (ewma > absl::ZeroDuration()) {
    const int64_t ns = absl::ToInt64Nanoseconds(ewma);
    h.mutable_latency_ewma()->set_seconds(ns / 1000000000);
    h.mutable_latency_ewma()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  }
  const int64_t changed = absl::ToUnixNanos(kNow - age);
  h.mutable_last_change()->set_seconds(changed / 1000000000);
  h.mutable_last_change()->set_nanos(
      static_cast<int32_t>(changed % 1000000000));
  return s;
}

// A healthy registrar (401 challenge) known by two names, one that stopped
// answering, one that answers 503, and an IP literal not probed yet.
v1::ListServersResponse SampleServers() {
  v1::ListServersResponse r;
  *r.add_servers() =
      MakeServer("192.0.2.10", 5060, v1::TRANSPORT_UDP,
                 v1::HEALTH_STATE_HEALTHY, 401, "", absl::Microseconds(310),
                 absl::Seconds(12), {"itsp.example.com", "pbx.example.com"});
  *r.add_servers() = MakeServer(
      "192.0.2.20", 5060, v1::TRANSPORT_UNSPECIFIED, v1::HEALTH_STATE_UNHEALTHY,
      503, "answered 503", absl::Microseconds(3140),
      absl::Hours(3) + absl::Minutes(5), {"itsp.example.com"});
  *r.add_servers() = MakeServer(
      "198.51.100.7", 5080, v1::TRANSPORT_TCP, v1::HEALTH_STATE_UNHEALTHY, 0,
      "no final response within 2s", absl::Microseconds(25400),
      absl::Seconds(307), {"itsp.example.com"});
  *r.add_servers() = MakeServer(
      "2001:db8::1", 5061, v1::TRANSPORT_TLS, v1::HEALTH_STATE_UNKNOWN, 0, "",
      absl::ZeroDuration(), absl::Milliseconds(400), {""});
  return r;
}

TEST(ServersCommandTest, ServersTableShowsHealthOfEachEndpoint) {
  EXPECT_EQ(
      FormatServersTable(SampleServers(), kNow),
      R"(ADDRESS       PORT  TRANSPORT  STATE      LAST                         LATENCY      SINCE  DOMAINS
192.0.2.10    5060  udp        healthy    401                           0.31ms    12s ago  itsp.example.com,pbx.example.com
192.0.2.20    5060  udp        unhealthy  503                            3.1ms  3h05m ago  itsp.example.com
198.51.100.7  5080  tcp        unhealthy  no final response within 2s     25ms  5m07s ago  itsp.example.com
2001:db8::1   5061  tls        unknown    -                                  -     0s ago  (IP literal)
)");
}

TEST(ServersCommandTest, ServersTableSaysWhereProbesAndDevicesDisagree) {
  v1::ListServersResponse r = SampleServers();
  v1::EndpointHealth& h =
      *r.mutable_servers(1)->mutable_health();  // Unhealthy.
  h.set_device_successes(3);
  h.set_decision_state(v1::HEALTH_STATE_HEALTHY);
  r.set_probe_path_suspect(true);
  r.set_probe_healthy_ratio(0.25);
  const std::string table = FormatServersTable(r, kNow);
  EXPECT_NE(
      table.find("192.0.2.20:5060: probes fail but 3 devices register there "
                 "(decisions count it as working): is the service banned by "
                 "the ITSP or its egress blocked?"),
      std::string::npos)
      << table;
  EXPECT_NE(
      table.find("Probe path suspect: 25% of the probed endpoints are healthy"),
      std::string::npos)
      << table;
}

TEST(ServersCommandTest, ServersTableOfEmptyResponse) {
  EXPECT_EQ(FormatServersTable(v1::ListServersResponse(), kNow),
            "No servers are probed: a server is probed while an agent watches "
            "a profile that\nneeds it and --probe_allow allows it.\n");
}

TEST(ServersCommandTest, ServersTableWithoutLastChangeOrDomains) {
  v1::ListServersResponse r;
  v1::ServerStatus* s = r.add_servers();
  s->mutable_endpoint()->set_address("192.0.2.1");
  s->mutable_endpoint()->set_port(5060);
  EXPECT_EQ(FormatServersTable(r, kNow),
            "ADDRESS    PORT  TRANSPORT  STATE  LAST  LATENCY  SINCE  DOMAINS\n"
            "192.0.2.1  5060  udp        ?      -           -      -  -\n");
}

TEST(ServersCommandTest, AgeIsCompact) {
  EXPECT_EQ(FormatAge(absl::Seconds(-3)), "0s ago");  // Clocks apart.
  EXPECT_EQ(FormatAge(absl::Milliseconds(999)), "0s ago");
  EXPECT_EQ(FormatAge(absl::Seconds(59)), "59s ago");
  EXPECT_EQ(FormatAge(absl::Seconds(60)), "1m00s ago");
  EXPECT_EQ(FormatAge(absl::Seconds(3599)), "59m59s ago");
  EXPECT_EQ(FormatAge(absl::Hours(1)), "1h00m ago");
  EXPECT_EQ(FormatAge(absl::Hours(24) - absl::Seconds(1)), "23h59m ago");
  EXPECT_EQ(FormatAge(absl::Hours(27)), "1d03h ago");
  EXPECT_EQ(FormatAge(absl::Hours(24 * 400)), "400d00h ago");
}

TEST(ServersCommandTest, LatencyInMilliseconds) {
  EXPECT_EQ(FormatLatency(absl::ZeroDuration()), "-");
  EXPECT_EQ(FormatLatency(absl::Microseconds(-5)), "-");
  EXPECT_EQ(FormatLatency(absl::Microseconds(42)), "0.04ms");
  EXPECT_EQ(FormatLatency(absl::Microseconds(999)), "1.00ms");  // Rounded.
  EXPECT_EQ(FormatLatency(absl::Microseconds(3140)), "3.1ms");
  EXPECT_EQ(FormatLatency(absl::Microseconds(125400)), "125ms");
  EXPECT_EQ(FormatLatency(absl::Seconds(2)), "2000ms");
}

TEST(ServersCommandTest, LastResultIsTheCodeOrWhatWentWrong) {
  v1::EndpointHealth h;
  EXPECT_EQ(FormatLastResult(h), "-");  // Not probed yet.
  h.set_last_response_code(200);
  EXPECT_EQ(FormatLastResult(h), "200");
  h.set_last_response_code(403);
  h.set_last_error("answered 403");  // The code says it all.
  EXPECT_EQ(FormatLastResult(h), "403");
  h.set_last_response_code(401);
  h.set_last_error("challenge without a Digest scheme");
  EXPECT_EQ(FormatLastResult(h), "401 challenge without a Digest scheme");
  h.set_last_response_code(0);
  h.set_last_error("connection refused");
  EXPECT_EQ(FormatLastResult(h), "connection refused");
}

TEST(ServersCommandTest, ServersTableNamesTransportsAndStates) {
  EXPECT_EQ(TransportName(v1::TRANSPORT_UNSPECIFIED), "udp");  // S12 default.
  EXPECT_EQ(TransportName(v1::TRANSPORT_TLS), "tls");
  EXPECT_EQ(TransportName(static_cast<v1::Transport>(99)), "?");
  EXPECT_EQ(HealthStateName(v1::HEALTH_STATE_UNSPECIFIED), "?");
  EXPECT_EQ(HealthStateName(v1::HEALTH_STATE_UNHEALTHY), "unhealthy");
  EXPECT_EQ(HealthStateName(static_cast<v1::HealthState>(99)), "?");
}

TEST(ServersCommandTest, ServersJsonParsesBackAndUsesProtoNames) {
  const v1::ListServersResponse response = SampleServers();
  absl::StatusOr<std::string> json = FormatJson(response);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->find('\n'), json->size() - 1) << *json;
  // Durations and timestamps in their proto3 JSON forms, enums by name.
  EXPECT_TRUE(absl::StrContains(*json, R"("latency_ewma":"0.000310s")"))
      << *json;
  EXPECT_TRUE(
      absl::StrContains(*json, R"("last_change":"2023-11-14T22:13:08Z")"))
      << *json;
  EXPECT_TRUE(absl::StrContains(*json, R"("state":"HEALTH_STATE_HEALTHY")"))
      << *json;
  EXPECT_TRUE(absl::StrContains(*json, R"("last_response_code":401)")) << *json;
  EXPECT_TRUE(absl::StrContains(
      *json,
      R"("endpoint":{"address":"192.0.2.10","port":5060,"transport":"TRANSPORT_UDP"})"))
      << *json;
  v1::ListServersResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, response));
}

TEST(ServersCommandTest, ServersTakesNoArguments) {
  EXPECT_TRUE(CheckServersArgs({}).ok());
  absl::Status s = CheckServersArgs({"itsp.example.com"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "servers: unexpected argument 'itsp.example.com'");
}

}  // namespace
}  // namespace sipresolver::cli
