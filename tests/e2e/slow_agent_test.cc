// Fault injection: an agent that never reads its stream is cut off once its
// writes stall, and the other agents are unaffected.
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
#include "tests/support/dnsmasq_server.h"
#include "tests/support/eventually.h"
#include "tests/support/sipresolverd_process.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

v1::WatchDecisionRequest Request(const std::string& agent) {
  v1::WatchDecisionRequest r;
  r.set_agent_id(agent);
  // No DNS needed; the probes find nothing listening on the discard port.
  r.mutable_profile()->set_proxy_server("127.0.0.1");
  r.mutable_profile()->set_proxy_server_port(9);
  return r;
}

TEST(SlowAgentTest, AgentThatNeverReadsIsDroppedOthersUnaffected) {
  auto daemon = SipresolverdProcess::Start(
      "127.0.0.1:1", {"--probe_allow=127.0.0.1/32", "--heartbeat_interval=1s",
                      "--max_stream_write_stall=2s"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  // A small flow-control window, never reopened: the agent reads nothing.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto slow_channel = grpc::CreateCustomChannel(
      (*daemon)->grpc_address(), grpc::InsecureChannelCredentials(), args);
  auto slow_stub = v1::SipResolver::NewStub(slow_channel);
  grpc::ClientContext slow_context;
  auto slow_reader = slow_stub->WatchDecision(&slow_context, Request("slow"));

  DecisionWatcher healthy((*daemon)->stub(), Request("healthy"));
  ASSERT_TRUE(
      healthy.WaitFor([](const v1::Decision& d) { return !d.heartbeat(); }));

  EXPECT_TRUE(Eventually([&] {
    return MetricValue((*daemon)->Metrics(),
                       "sipresolver_decision_streams_dropped_total") >= 1;
  }));
  // The healthy agent still gets its heartbeats.
  EXPECT_TRUE(
      healthy.WaitFor([](const v1::Decision& d) { return d.heartbeat(); }));
  slow_context.TryCancel();
}

// An agent that stopped reading and whose profile is then refused (a DNS
// renewal brings in an address outside --probe_allow): its stream was ended
// with its last write stuck, and gets no more decisions, yet it is still cut
// off once that write stalls, so it holds no stream slot forever.
TEST(SlowAgentTest, StalledAgentOfARefusedProfileIsStillDropped) {
  // Twenty servers: each decision lists them all, so two fill the window.
  DnsZone zone;
  zone.ttl = 1;
  zone.hosts = {{"pbx.test", {}}};
  for (int i = 1; i <= 20; ++i)
    zone.hosts[0].addresses.push_back(absl::StrCat("127.0.0.", i));
  auto dns = DnsmasqServer::Start(zone);
  ASSERT_TRUE(dns.ok()) << dns.status();
  auto daemon = SipresolverdProcess::Start(
      (*dns)->address(),
      {"--probe_allow=127.0.0.0/8", "--heartbeat_interval=1s",
       "--max_stream_write_stall=6s", "--cache_max_ttl=1s"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  constexpr int kWindow = 1024;  // A small window, never reopened.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kWindow);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto channel = grpc::CreateCustomChannel(
      (*daemon)->grpc_address(), grpc::InsecureChannelCredentials(), args);
  auto stub = v1::SipResolver::NewStub(channel);
  grpc::ClientContext context;
  v1::WatchDecisionRequest request;
  request.set_agent_id("slow");
  request.mutable_profile()->set_proxy_server("pbx.test");
  request.mutable_profile()->set_proxy_server_redundancy(true);
  auto reader = stub->WatchDecision(&context, request);
  ASSERT_TRUE(Eventually([&] {
    return MetricValue((*daemon)->Metrics(), "sipresolver_decision_streams") ==
           1;
  }));
  {
    // Decisions and heartbeats fill the window. An agent that reads, on the
    // same profile (the same watcher) from after the slow one joined, gets
    // what the slow one was sent (coalesced to the newest once its write is
    // stuck): once it has got twice the window, a write to the slow one is
    // stuck.
    v1::WatchDecisionRequest peer_request = request;
    peer_request.set_agent_id("reader");
    DecisionWatcher peer((*daemon)->stub(), peer_request);
    size_t bytes = 0;
    ASSERT_TRUE(peer.WaitFor(
        [&](const v1::Decision& d) {
          bytes += d.ByteSizeLong() + 5;  // gRPC's message header.
          return bytes > static_cast<size_t>(2 * kWindow);
        },
        absl::Minutes(2)))
        << bytes << " bytes";
  }

  zone.hosts = {{"pbx.test", {"10.9.9.9"}}};
  ASSERT_TRUE((*dns)->Restart(zone).ok());
  EXPECT_TRUE(Eventually([&] {
    return MetricValue((*daemon)->Metrics(), "sipresolver_decision_streams") ==
           0;
  }));
  EXPECT_GE(MetricValue((*daemon)->Metrics(),
                        "sipresolver_probe_targets_refused_total"
                        "{code=\"PERMISSION_DENIED\"}"),
            1);
  context.TryCancel();
}

}  // namespace
}  // namespace sipresolver::testing
