// Fault injection: an agent that never reads its stream is cut off once its
// writes stall, and the other agents are unaffected.
#include <thread>

#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/support/decision_watcher.h"
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
  auto slow_channel = grpc::CreateCustomChannel((*daemon)->grpc_address(),
                                                grpc::InsecureChannelCredentials(), args);
  auto slow_stub = v1::SipResolver::NewStub(slow_channel);
  grpc::ClientContext slow_context;
  auto slow_reader = slow_stub->WatchDecision(&slow_context, Request("slow"));

  DecisionWatcher healthy((*daemon)->stub(), Request("healthy"));
  ASSERT_TRUE(healthy.WaitFor([](const v1::Decision& d) { return !d.heartbeat(); }));

  bool dropped = false;
  for (int i = 0; i < 300 && !dropped; ++i) {  // At most 30 s.
    dropped = MetricValue((*daemon)->Metrics(),
                          "sipresolver_decision_streams_dropped_total") >= 1;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(dropped);
  // The healthy agent still gets its heartbeats.
  EXPECT_TRUE(healthy.WaitFor([](const v1::Decision& d) { return d.heartbeat(); },
                              absl::Seconds(5)));
  slow_context.TryCancel();
}

}  // namespace
}  // namespace sipresolver::testing
