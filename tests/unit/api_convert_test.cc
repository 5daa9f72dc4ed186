// Request validation at the service edge: bad input is INVALID_ARGUMENT
// naming the field.
#include "server/api_convert.h"

#include "gtest/gtest.h"
#include "server/grpc_status.h"

namespace sipresolver::server {
namespace {

v1::ResolveRequest Request(const std::string& server) {
  v1::ResolveRequest r;
  r.set_server(server);
  return r;
}

void ExpectInvalid(const v1::ResolveRequest& request, absl::string_view field) {
  auto spec = ToServerSpec(request);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message().substr(0, field.size()), field)
      << spec.status();
}

TEST(ApiConvertTest, DefaultsAreUdpAndIpv4) {
  auto spec = ToServerSpec(Request("sip.example.com"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->transport, dns::Transport::kUdp);
  EXPECT_EQ(spec->ip_version, dns::IpVersion::kV4);
  EXPECT_FALSE(spec->redundancy);
}

TEST(ApiConvertTest, UnknownEnumValuesAreRejected) {
  v1::ResolveRequest r = Request("sip.example.com");
  r.set_transport(static_cast<v1::Transport>(42));
  ExpectInvalid(r, "transport:");
  r = Request("sip.example.com");
  r.set_ip_version(static_cast<v1::IpVersion>(-1));
  ExpectInvalid(r, "ip_version:");
}

TEST(ApiConvertTest, BadServerAndPortNameTheField) {
  ExpectInvalid(Request(""), "server:");
  ExpectInvalid(Request(std::string(300, 'a')), "server:");
  ExpectInvalid(Request("bad..name"), "server:");
  v1::ResolveRequest r = Request("sip.example.com");
  r.set_port(65536);
  ExpectInvalid(r, "port:");
}

TEST(ApiConvertTest, S5_IpLiteralWithRedundancyIsRejected) {
  v1::ResolveRequest r = Request("192.0.2.1");
  r.set_redundancy(true);
  ExpectInvalid(r, "redundancy:");
}

TEST(ApiConvertTest, ResponseCarriesCandidatesAndLookups) {
  dns::Resolution res;
  res.candidates.push_back({"pbx.test", "192.0.2.1", 5070, 10, 5,
                            dns::CandidateSource::kSrvSipUdp,
                            absl::Seconds(42)});
  res.lookups.push_back({"_sip._udp.x.test", dns::RecordType::kSrv,
                         dns::LookupOutcome::kAnswer, absl::Seconds(42), true,
                         true, 1, ""});
  v1::ResolveResponse response;
  ToResolveResponse(res, response);
  ASSERT_EQ(response.candidates_size(), 1);
  EXPECT_EQ(response.candidates(0).source(), v1::CANDIDATE_SOURCE_SRV_SIP_UDP);
  EXPECT_EQ(response.candidates(0).ttl_seconds(), 42u);
  EXPECT_EQ(response.candidates(0).port(), 5070u);
  ASSERT_EQ(response.lookups_size(), 1);
  EXPECT_TRUE(response.lookups(0).stale());
  EXPECT_EQ(response.lookups(0).type(), v1::RECORD_TYPE_SRV);
}

TEST(ApiConvertTest, ErrorsListTheLookupsTried) {
  dns::Resolution res;
  res.lookups.push_back({"x.test",
                         dns::RecordType::kA,
                         dns::LookupOutcome::kNxDomain,
                         {},
                         false,
                         false,
                         0,
                         ""});
  absl::Status s = WithLookups(absl::NotFoundError("nothing"), res);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "nothing [lookups: A x.test: NXDOMAIN]");
  EXPECT_EQ(ToGrpcStatus(s).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace sipresolver::server
