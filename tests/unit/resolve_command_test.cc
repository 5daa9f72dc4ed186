// `sipresolver resolve` without a server: its flags mapped to the request,
// the table and the JSON of the response.
#include "client/resolve_command.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/command_line.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

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

TEST(ResolveCommandTest, TableListsCandidatesThenLookups) {
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

TEST(ResolveCommandTest, TableOfEmptyResponse) {
  EXPECT_EQ(FormatResolveTable(v1::ResolveResponse()),
            "No candidates.\n\nLookups: none\n");
}

TEST(ResolveCommandTest, TableNamesEverySourceAndOutcome) {
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_AAAA), "AAAA");
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_SRV), "SRV");
  EXPECT_EQ(CandidateSourceName(v1::CANDIDATE_SOURCE_IP_LITERAL), "IP literal");
  EXPECT_EQ(RecordTypeName(v1::RECORD_TYPE_CNAME), "CNAME");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_NODATA), "NODATA");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_NO_SERVICE), "no service");
  EXPECT_EQ(LookupOutcomeName(v1::LOOKUP_OUTCOME_UNAVAILABLE), "unavailable");
}

TEST(ResolveCommandTest, JsonParsesBackToTheResponse) {
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

TEST(ResolveCommandTest, JsonUsesProtoNamesAndOmitsDefaults) {
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

TEST(ResolveCommandTest, ResolveMapsFlagsToRequest) {
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

TEST(ResolveCommandTest, ResolveUnsetFlagsLeaveServerDefaults) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"[2001:db8::1]"}, ResolveFlags());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->server(), "[2001:db8::1]");
  EXPECT_EQ(request->port(), 0u);
  EXPECT_EQ(request->transport(), v1::TRANSPORT_UNSPECIFIED);
  EXPECT_EQ(request->ip_version(), v1::IP_VERSION_UNSPECIFIED);
  EXPECT_FALSE(request->redundancy());
}

TEST(ResolveCommandTest, BadTransportIsUsageError) {
  ResolveFlags flags;
  flags.transport = "sctp";
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"example.com"}, flags);
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "bad --transport 'sctp': want udp, tcp or tls");
}

TEST(ResolveCommandTest, BadIpVersionOrPortIsUsageError) {
  ResolveFlags flags;
  flags.ip_version = "v5";
  EXPECT_EQ(MakeResolveRequest({"example.com"}, flags).status().code(),
            absl::StatusCode::kInvalidArgument);
  flags = ResolveFlags();
  flags.port = 65536;
  EXPECT_EQ(MakeResolveRequest({"example.com"}, flags).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResolveCommandTest, MissingNameIsUsageError) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({}, ResolveFlags());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(), "resolve: missing NAME");
  EXPECT_EQ(MakeResolveRequest({""}, ResolveFlags()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResolveCommandTest, ExtraArgumentIsUsageError) {
  absl::StatusOr<v1::ResolveRequest> request =
      MakeResolveRequest({"example.com", "5060"}, ResolveFlags());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(), "resolve: unexpected argument '5060'");
}

}  // namespace
}  // namespace sipresolver::cli
