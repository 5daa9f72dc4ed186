// ParseFaceConfig: the DNS face's configuration file, checked at start.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/dns_face/face_config.h"

namespace sipresolver::server::dns_face {
namespace {

using ::testing::HasSubstr;

TEST(FaceConfig, ReadsZonesAndNamesNormalised) {
  auto config = ParseFaceConfig(R"({"zones":[{"zone":"SIP.Fleet.Example.",
    "ttl_seconds":3, "hostmaster":"ops.fleet.example",
    "names":[{"name":"Acme","profile":{"proxyServer":"itsp.example",
               "proxyServerTransport":"TRANSPORT_TLS"}, "publish":["address"]},
             {"name":"b.c","profile":{"proxy_server":"itsp.example"}}]}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  const FaceZone& zone = config->zones[0];
  EXPECT_EQ(zone.apex, "sip.fleet.example.");
  EXPECT_EQ(zone.ttl_seconds, 3u);
  EXPECT_EQ(zone.soa,
            "ns.sip.fleet.example. ops.fleet.example. 1 3600 600 86400 3");
  EXPECT_EQ(zone.names[0].fqdn, "acme.sip.fleet.example.");
  EXPECT_EQ(zone.names[0].service, "_sips._tcp.acme.sip.fleet.example.");
  EXPECT_FALSE(zone.names[0].publish_srv);
  EXPECT_TRUE(zone.names[0].publish_address);
  EXPECT_EQ(zone.names[1].service, "_sip._udp.b.c.sip.fleet.example.");
  EXPECT_TRUE(zone.names[1].publish_srv);
  EXPECT_FALSE(zone.names[1].publish_address);
}

TEST(FaceConfig, BadInputIsRejectedNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not a DNS face configuration"},
      {R"({"zones":[]})", "zones: 1 to 16"},
      {R"({"zonez":[]})", "not a DNS face configuration"},
      {R"({"zones":[{"zone":"a..b","names":[]}]})", "zones[0].zone"},
      {R"({"zones":[{"zone":"f.example","names":[]}]})", "zones[0].names"},
      {R"({"zones":[{"zone":"f.example","ttlSeconds":301,"names":[
          {"name":"a","profile":{"proxyServer":"x.example"}}]}]})",
       "zones[0].ttl_seconds"},
      {R"({"zones":[{"zone":"f.example","names":[
          {"name":"a","profile":{}}]}]})",
       "zones[0].names[0].profile.proxy_server"},
      {R"({"zones":[{"zone":"f.example","names":[
          {"name":"a","profile":{"proxyServer":"x.example"},
           "publish":["txt"]}]}]})",
       "zones[0].names[0].publish"},
      {R"({"zones":[{"zone":"f.example","names":[
          {"name":"a","profile":{"proxyServer":"x.example"}},
          {"name":"A","profile":{"proxyServer":"y.example"}}]}]})",
       "provisioned twice"},
      {R"({"zones":[{"zone":"f.example","names":[
          {"name":"a","profile":{"proxyServer":"x.example"}}]},
          {"zone":"sub.f.example","names":[
          {"name":"b","profile":{"proxyServer":"x.example"}}]}]})",
       "overlaps"},
  };
  for (const auto& [json, error] : cases) {
    auto config = ParseFaceConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
    EXPECT_THAT(config.status().message(), HasSubstr(error)) << json;
  }
}

TEST(FaceConfig, TheShippedExampleIsValid) {
  auto config =
      LoadFaceConfig(SIPRESOLVER_SOURCE_DIR "/examples/dns-face/dns-face.json");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->zones[0].names.size(), 2u);
}

TEST(FaceConfig, LoadNamesTheFile) {
  auto config = LoadFaceConfig("/nonexistent/face.json");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("dns_face_config: cannot read /nonexistent/face.json"));
}

}  // namespace
}  // namespace sipresolver::server::dns_face
