// Everything sipresolver-agent reads from the network, from a hostile
// server: the input is the byte stream a server sends on one connection
// (HTTP/2 frames, HPACK, gRPC framing, Decision messages), fed through the
// agent's own connection code (h2_conn over a real loopback socket) with a
// WatchDecision call open; every decision that comes out goes through what
// the agent does with it: the policy against the one held, same-decision,
// the printed line, the JSON, the decision file, the hook's environment and
// a local failover. Guarantees: no crash, no leak, every call ends once,
// the connection ends when the bytes do.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "tests/fuzz/fuzz_check.h"

extern "C" {
#include "h2_conn.h"
#include "local.h"
#include "local_failover.h"
#include "output.h"
#include "policy.h"
}

namespace {

int g_listener = -1;
sockaddr_in g_address;

void Listen() {
  g_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_address = {};
  g_address.sin_family = AF_INET;
  g_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof g_address;
  FUZZ_CHECK(g_listener >= 0 &&
             bind(g_listener, reinterpret_cast<sockaddr*>(&g_address),
                  sizeof g_address) == 0 &&
             listen(g_listener, 4) == 0 &&
             getsockname(g_listener, reinterpret_cast<sockaddr*>(&g_address),
                         &len) == 0);
}

struct Call {
  struct policy policy = {0};
  Decision* held = nullptr;
  ItspProfile profile = SIPRESOLVER__V1__ITSP_PROFILE__INIT;
  int ended = 0;
};

// What the agent does with a decision, all of it.
void Apply(Call& call, const Decision* d) {
  struct buf out = BUF_INIT;
  format_decision_line(d, &out);
  format_decision_json(d, &out);
  format_decision_file(d, SOURCE_SERVICE, &out);
  int n = 0;
  hook_environment(d, SOURCE_SERVICE, &call.profile, "/run/d.json", &out, &n);
  buf_free(&out);
  if (d->state == STATE_ACTIVE && d->primary && d->n_candidates > 0) {
    struct device_report r = {};
    snprintf(r.address, sizeof r.address, "%s",
             str_or_empty(d->primary->address));
    r.port = d->primary->port;
    Decision* local = local_failover_decision(d, 0, LF_NONE, &r);
    message_free(local);
  }
  const struct profile_server server = profile_server_of(&call.profile);
  message_free(local_device_control_decision(d, &server, 600000));
}

int OnMessage(void* arg, const uint8_t* message, size_t len) {
  auto& call = *static_cast<Call*>(arg);
  Decision* d = decision_unpack(message, len);
  if (!d) return 1;
  if (d->heartbeat) {
    message_free(d);
    return 0;
  }
  d = policy_accept(&call.policy, call.held, d);
  if (!d) return 0;
  if (call.held) (void)decision_same(call.held, d);
  Apply(call, d);
  message_free(call.held);
  call.held = d;
  return 0;
}

void OnEnd(void* arg, const grpc_result* result) {
  auto& call = *static_cast<Call*>(arg);
  FUZZ_CHECK(result->code >= 0);
  FUZZ_CHECK(strlen(result->message) < sizeof result->message);
  ++call.ended;
}

const h2_call_handler kHandler = {OnMessage, OnEnd};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_listener < 0) Listen();
  const h2_options options = {nullptr, "fuzz", "fuzz:50051", 64 * 1024,
                              60000,   0,      20000};
  char error[256];
  h2_conn* conn =
      h2_conn_open(reinterpret_cast<const sockaddr*>(&g_address),
                   sizeof g_address, &options, 0, error, sizeof error);
  FUZZ_CHECK(conn != nullptr);
  const int server = accept4(g_listener, nullptr, nullptr, SOCK_CLOEXEC);
  FUZZ_CHECK(server >= 0);
  Call call;
  call.policy.stream_decided = size % 2;  // Both sides of the SEARCHING rule.
  const uint8_t request[] = {0x12, 0x02, 'd', '1'};  // agent_id "d1".
  h2_call* watch =
      h2_call_start(conn, "/sipresolver.v1.SipResolver/WatchDecision", request,
                    sizeof request, &kHandler, &call);
  FUZZ_CHECK(watch != nullptr);
  // The server's bytes, then its end. Inputs stay below the socket buffer.
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = send(server, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(server, SHUT_WR);
  int64_t now = 1;
  int open = 1;
  for (int i = 0; i < 1000 && open; ++i) {
    open = h2_conn_process(conn, POLLIN | POLLOUT, now += 10) == 0;
    if (open && i % 8 == 7) {  // Drain what the agent wrote.
      uint8_t sink[65536];
      while (recv(server, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
    }
  }
  FUZZ_CHECK(!open);  // Every byte read, the end seen: the connection is over.
  FUZZ_CHECK(call.ended == 1);
  h2_conn_free(conn);
  close(server);
  message_free(call.held);
  return 0;
}
