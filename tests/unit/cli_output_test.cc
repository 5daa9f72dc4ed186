// Formatting and argument handling of the `sipresolver` CLI, without a server.
#include "client/cli_output.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

// Flags for CheckFlagSyntax, named so they cannot clash with the real ones.
ABSL_FLAG(uint32_t, cli_test_port, 0, "test only");
ABSL_FLAG(bool, cli_test_bool, false, "test only");

namespace sipresolver::cli {
namespace {

v1::Candidate MakeCandidate(const std::string& target,
                            const std::string& address, uint32_t port,
                            uint32_t priority, uint32_t weight,
                            v1::CandidateSource source, uint32_t ttl) {
  v1::Candidate c;
  c.set_target(target);
  c.set_address(address);
  c.set_port(port);
  c.set_priority(priority);
  c.set_weight(weight);
  c.set_source(source);
  c.set_ttl_seconds(ttl);
  return c;
}

v1::Lookup MakeLookup(const std::string& name, v1::RecordType type,
                      v1::LookupOutcome outcome, uint32_t ttl, bool cache,
                      bool stale, const std::string& detail) {
  v1::Lookup l;
  l.set_name(name);
  l.set_type(type);
  l.set_outcome(outcome);
  l.set_ttl_seconds(ttl);
  l.set_from_cache(cache);
  l.set_stale(stale);
  l.set_detail(detail);
  return l;
}

// Two SRV candidates of _sip._udp.example.com, then the A record of the name.
v1::ResolveResponse SampleResponse() {
  v1::ResolveResponse r;
  *r.add_candidates() =
      MakeCandidate("sip1.example.com", "192.0.2.10", 5060, 10, 60,
                    v1::CANDIDATE_SOURCE_SRV_SIP_UDP, 300);
  *r.add_candidates() =
      MakeCandidate("sip2.example.com", "198.51.100.200", 5080, 20, 0,
                    v1::CANDIDATE_SOURCE_SRV_SIP_UDP, 120);
  *r.add_candidates() = MakeCandidate("example.com", "192.0.2.1", 5060, 0, 0,
                                      v1::CANDIDATE_SOURCE_A, 3600);
  *r.add_lookups() =
      MakeLookup("example.com", v1::RECORD_TYPE_SRV,
                 v1::LOOKUP_OUTCOME_NXDOMAIN, 60, true, false, "");
  v1::Lookup srv = MakeLookup("_sip._udp.example.com", v1::RECORD_TYPE_SRV,
                              v1::LOOKUP_OUTCOME_ANSWER, 300, false, false, "");
  srv.set_record_count(2);
  *r.add_lookups() = srv;
  *r.add_lookups() = MakeLookup("sip1.example.com", v1::RECORD_TYPE_A,
                                v1::LOOKUP_OUTCOME_ANSWER, 300, true, true,
                                "DNS server failed: SERVFAIL");
  *r.add_lookups() =
      MakeLookup("sip2.example.com", v1::RECORD_TYPE_A,
                 v1::LOOKUP_OUTCOME_ANSWER, 120, true, false, "");
  *r.add_lookups() =
      MakeLookup("example.com", v1::RECORD_TYPE_A, v1::LOOKUP_OUTCOME_ANSWER,
                 3600, false, false, "via CNAME host.example.net");
  return r;
}

TEST(CliOutputTest, TableListsCandidatesThenLookups) {
  EXPECT_EQ(
      FormatResolveTable(SampleResponse()),
      R"(#  ADDRESS         PORT  PRIORITY  WEIGHT  SOURCE           TTL  TARGET
1  192.0.2.10      5060        10      60  SRV _sip._udp   300s  sip1.example.com
2  198.51.100.200  5080        20       0  SRV _sip._udp   120s  sip2.example.com
3  192.0.2.1       5060         0       0  A              3600s  example.com

Lookups:
  example.com            SRV  NXDOMAIN    60s  cache
  _sip._udp.example.com  SRV  answer     300s
  sip1.example.com       A    answer     300s  stale  DNS server failed: SERVFAIL
  sip2.example.com       A    answer     120s  cache
  example.com            A    answer    3600s         via CNAME host.example.net
)");
}

TEST(CliOutputTest, TableOfEmptyResponse) {
  EXPECT_EQ(FormatResolveTable(v1::ResolveResponse()),
            "No candidates.\n\nLookups: none\n");
}

TEST(CliOutputTest, TableNamesEverySourceAndOutcome) {
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_AAAA), "AAAA");
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_SRV), "SRV");
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_IP_LITERAL), "IP literal");
  EXPECT_EQ(RecordTypeName(v1::RECORD_TYPE_CNAME), "CNAME");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_NODATA), "NODATA");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_NO_SERVICE), "no service");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_UNAVAILABLE), "unavailable");
}

TEST(CliOutputTest, JsonParsesBackToTheResponse) {
  const v1::ResolveResponse response = SampleResponse();
  absl::StatusOr<std::string> json = FormatJson(response);
  ASSERT_TRUE(json.ok()) << json.status();

  // One object on one line, so scripts can read it line by line.
  ASSERT_TRUE(absl::EndsWith(*json, "}\n")) << *json;
  EXPECT_EQ(json->find('\n'), json->size() - 1) << *json;
  EXPECT_TRUE(absl::StartsWith(*json, "{")) << *json;

  v1::ResolveResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, response));
}

TEST(CliOutputTest, JsonUsesProtoNamesAndOmitsDefaults) {
  v1::ResolveResponse response;
  *response.add_candidates() = MakeCandidate("example.com", "192.0.2.1", 5060,
                                             0, 0, v1::CANDIDATE_SOURCE_A, 300);
  absl::StatusOr<std::string> json = FormatJson(response);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            R"({"candidates":[{"target":"example.com","address":"192.0.2.1",)"
            R"("port":5060,"source":"CANDIDATE_SOURCE_A","ttl_seconds":300}]})"
            "\n");
}

TEST(CliOutputTest, ResolveMapsFlagsToRequest) {
  ResolveFlags flags;
  flags.port = 5070;
  flags.transport = "TLS";  // Case does not matter.
  flags.ip_version = "dual";
  flags.redundancy = true;
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"example.com"}, flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->server(), "example.com");
  EXPECT_EQ(request->port(), 5070u);
  EXPECT_EQ(request->transport(), v1::TRANSPORT_TLS);
  EXPECT_EQ(request->ip_version(), v1::IP_VERSION_DUAL);
  EXPECT_TRUE(request->redundancy());
}

TEST(CliOutputTest, ResolveUnsetFlagsLeaveServerDefaults) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"[2001:db8::1]"}, ResolveFlags());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->server(), "[2001:db8::1]");
  EXPECT_EQ(request->port(), 0u);
  EXPECT_EQ(request->transport(), v1::TRANSPORT_UNSPECIFIED);
  EXPECT_EQ(request->ip_version(), v1::IP_VERSION_UNSPECIFIED);
  EXPECT_FALSE(request->redundancy());
}

TEST(CliOutputTest, BadTransportIsUsageError) {
  ResolveFlags flags;
  flags.transport = "sctp";
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"example.com"}, flags);
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "bad --transport 'sctp': want udp, tcp or tls");
}

TEST(CliOutputTest, BadIpVersionOrPortIsUsageError) {
  ResolveFlags flags;
  flags.ip_version = "v5";
  EXPECT_EQ(MakeResolveRequest({"example.com"}, flags).status().code(),
            absl::StatusCode::kInvalidArgument);
  flags = ResolveFlags();
  flags.port = 65536;
  EXPECT_EQ(MakeResolveRequest({"example.com"}, flags).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CliOutputTest, MissingNameIsUsageError) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({}, ResolveFlags());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(), "resolve: missing NAME");
  EXPECT_EQ(MakeResolveRequest({""}, ResolveFlags()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CliOutputTest, ExtraArgumentIsUsageError) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"example.com", "5060"}, ResolveFlags());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(), "resolve: unexpected argument '5060'");
}

// ------------------------------------------------------------- servers --

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::ServerStatus MakeServer(const std::string& address, uint32_t port,
                            v1::Transport transport, v1::HealthState state,
                            uint32_t code, const std::string& error,
                            absl::Duration ewma, absl::Duration age,
                            std::vector<std::string> domains) {
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

TEST(CliOutputTest, ServersTableShowsHealthOfEachEndpoint) {
  EXPECT_EQ(
      FormatServersTable(SampleServers(), kNow),
      R"(ADDRESS       PORT  TRANSPORT  STATE      LAST                         LATENCY      SINCE  DOMAINS
192.0.2.10    5060  udp        healthy    401                           0.31ms    12s ago  itsp.example.com,pbx.example.com
192.0.2.20    5060  udp        unhealthy  503                            3.1ms  3h05m ago  itsp.example.com
198.51.100.7  5080  tcp        unhealthy  no final response within 2s     25ms  5m07s ago  itsp.example.com
2001:db8::1   5061  tls        unknown    -                                  -     0s ago  (IP literal)
)");
}

TEST(CliOutputTest, ServersTableSaysWhereProbesAndDevicesDisagree) {
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

TEST(CliOutputTest, ServersTableOfEmptyResponse) {
  EXPECT_EQ(FormatServersTable(v1::ListServersResponse(), kNow),
            "No servers are probed: a server is probed while an agent watches "
            "a profile that\nneeds it and --probe_allow allows it.\n");
}

TEST(CliOutputTest, ServersTableWithoutLastChangeOrDomains) {
  v1::ListServersResponse r;
  v1::ServerStatus* s = r.add_servers();
  s->mutable_endpoint()->set_address("192.0.2.1");
  s->mutable_endpoint()->set_port(5060);
  EXPECT_EQ(FormatServersTable(r, kNow),
            "ADDRESS    PORT  TRANSPORT  STATE  LAST  LATENCY  SINCE  DOMAINS\n"
            "192.0.2.1  5060  udp        ?      -           -      -  -\n");
}

TEST(CliOutputTest, AgeIsCompact) {
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

TEST(CliOutputTest, LatencyInMilliseconds) {
  EXPECT_EQ(FormatLatency(absl::ZeroDuration()), "-");
  EXPECT_EQ(FormatLatency(absl::Microseconds(-5)), "-");
  EXPECT_EQ(FormatLatency(absl::Microseconds(42)), "0.04ms");
  EXPECT_EQ(FormatLatency(absl::Microseconds(999)), "1.00ms");  // Rounded.
  EXPECT_EQ(FormatLatency(absl::Microseconds(3140)), "3.1ms");
  EXPECT_EQ(FormatLatency(absl::Microseconds(125400)), "125ms");
  EXPECT_EQ(FormatLatency(absl::Seconds(2)), "2000ms");
}

TEST(CliOutputTest, LastResultIsTheCodeOrWhatWentWrong) {
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

TEST(CliOutputTest, ServersTableNamesTransportsAndStates) {
  EXPECT_EQ(TransportName(v1::TRANSPORT_UNSPECIFIED), "udp");  // S12 default.
  EXPECT_EQ(TransportName(v1::TRANSPORT_TLS), "tls");
  EXPECT_EQ(TransportName(static_cast<v1::Transport>(99)), "?");
  EXPECT_EQ(HealthStateName(v1::HEALTH_STATE_UNSPECIFIED), "?");
  EXPECT_EQ(HealthStateName(v1::HEALTH_STATE_UNHEALTHY), "unhealthy");
  EXPECT_EQ(HealthStateName(static_cast<v1::HealthState>(99)), "?");
}

TEST(CliOutputTest, ServersJsonParsesBackAndUsesProtoNames) {
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

TEST(CliOutputTest, ServersTakesNoArguments) {
  EXPECT_TRUE(CheckServersArgs({}).ok());
  absl::Status s = CheckServersArgs({"itsp.example.com"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "servers: unexpected argument 'itsp.example.com'");
}

int RunNothing(const std::vector<std::string>&) { return kExitOk; }

constexpr Command kTestCommands[] = {
    {"resolve", "NAME [--json]", "Resolve NAME.", RunNothing},
    {"servers", "", "List servers.", RunNothing},
};

TEST(CliOutputTest, FindCommandByName) {
  absl::StatusOr<const Command*> command =
      FindCommand(kTestCommands, {"servers"});
  ASSERT_TRUE(command.ok());
  EXPECT_EQ((*command)->name, "servers");
  EXPECT_EQ(FindCommand(kTestCommands, {}).status().message(),
            "missing command");
  EXPECT_EQ(FindCommand(kTestCommands, {"resolv", "x"}).status().message(),
            "unknown command 'resolv'");
}

TEST(CliOutputTest, UsageErrorShowsReasonAndUsage) {
  EXPECT_EQ(FormatUsageError("missing command", kTestCommands),
            "sipresolver: missing command\n"
            "usage: sipresolver [--server=HOST:PORT] [--timeout=5s] resolve "
            "NAME [--json]\n"
            "       sipresolver [--server=HOST:PORT] [--timeout=5s] servers\n"
            "Run 'sipresolver --help' for details.\n");
}

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return argv;
}

absl::Status Check(std::vector<std::string> args) {
  args.insert(args.begin(), "sipresolver");
  const std::vector<char*> argv = Argv(args);
  return CheckFlagSyntax(argv);
}

TEST(CliOutputTest, FlagSyntaxErrorsAreUsageErrors) {
  EXPECT_EQ(Check({"resolve", "--no_such_flag"}).message(),
            "unknown flag --no_such_flag");
  EXPECT_EQ(Check({"--cli_test_port=abc"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check({"--cli_test_port"}).message(),
            "missing value for --cli_test_port");
  EXPECT_EQ(Check({"--cli_test_bool=maybe"}).code(),
            absl::StatusCode::kInvalidArgument);
  // "no" negates booleans only.
  EXPECT_EQ(Check({"--nocli_test_port"}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CliOutputTest, FlagSyntaxAcceptsWhatAbslAccepts) {
  EXPECT_TRUE(Check({"resolve", "x", "--cli_test_port", "7"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_port), 7u);
  EXPECT_TRUE(Check({"-cli_test_bool", "--nocli_test_bool"}).ok());
  EXPECT_TRUE(Check({"--help"}).ok());  // absl's usage flags.
  EXPECT_TRUE(Check({"--", "--not_a_flag", "-x"}).ok());
  EXPECT_TRUE(Check({"-"}).ok());
}

TEST(CliOutputTest, RpcErrorNamesTheCode) {
  EXPECT_EQ(FormatRpcError(absl::NotFoundError("no A record for x.example")),
            "sipresolver: NOT_FOUND: no A record for x.example\n");
  EXPECT_EQ(FormatRpcError(absl::Status(absl::StatusCode::kUnavailable, "")),
            "sipresolver: UNAVAILABLE\n");
}

}  // namespace
}  // namespace sipresolver::cli
