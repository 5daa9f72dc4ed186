// CoturnServer: a real STUN server (Debian 12 coturn 4.6.1,
// /usr/bin/turnserver) on a free UDP port of 127.0.0.1 (or ::1), for
// integration tests of the STUN client (N2).
//
// How it runs: `turnserver -n --stun-only` (no config file, TURN requests
// ignored) with TCP, TLS, DTLS, the CLI and RFC 5780 off; its log, pid file
// and SQLite user database in a temporary directory (by default coturn would
// use /var/lib/turn, /var/tmp or /var/run, which need root). The Debian
// package installs a coturn.service (disabled by /etc/default/coturn and not
// started in containers); the fixture neither needs nor touches it.
//
// How it answers (pinned by stun_client_test.cc):
//  - A Binding request with the magic cookie gets a success response with
//    XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN (0x802B) and
//    SOFTWARE "Coturn-4.6.1 'Gorst'"; FINGERPRINT only if the request had
//    one. An RFC 3489 request (no cookie) gets an RFC 3489 answer
//    (MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS), which has no cookie.
//  - An unknown comprehension-required attribute gets "420 Unknown
//    Attribute" with UNKNOWN-ATTRIBUTES. Datagrams that are not STUN are
//    dropped silently.
//  - With `--log-binding -v`, every Binding request, answered with success
//    or error, is logged ("incoming packet BINDING processed") before the
//    response is sent, so
//    CountBindingRequests() is exact once the response has arrived; each new
//    client address is logged once ("New UDP endpoint ... remote addr A:P").
//  - SIGTERM ends it at once (default action); SIGSTOP pauses all its
//    threads, requests queue in the socket and are answered after SIGCONT.
//  - A port already in use is retried forever by coturn: the fixture sees
//    "Cannot bind" in the log, kills it and takes another port.
//
// The fixture's own readiness probes are not counted. Thread-compatible;
// create it on the test's thread (the child has PR_SET_PDEATHSIG tied to
// the creating thread, so no coturn outlives a crashed test).
#ifndef SIPRESOLVER_TESTS_SUPPORT_COTURN_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_COTURN_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

struct CoturnConfig {
  std::string listen_ip = "127.0.0.1";  // Or "::1".
};

class CoturnServer {
 public:
  // Starts coturn and waits, at most 10 s, until it answers a STUN Binding
  // request (~50 ms here). The error includes coturn's output and log.
  static absl::StatusOr<std::unique_ptr<CoturnServer>> Start(
      const CoturnConfig& config = {});

  // Stops coturn and removes the temporary directory.
  ~CoturnServer();
  CoturnServer(const CoturnServer&) = delete;
  CoturnServer& operator=(const CoturnServer&) = delete;

  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT", "[::1]:PORT"

  // SIGTERM (resuming it if paused), SIGKILL after 2 s; reaps. Idempotent.
  void Stop();
  bool running() const { return process_.running(); }
  pid_t pid() const { return process_.pid(); }

  // SIGSTOP / SIGCONT. Pause() returns once every thread is stopped
  // (bounded: 2 s).
  void Pause();
  void Resume();
  bool paused() const { return process_.paused(); }

  // Binding requests coturn processed since start or ResetCounts().
  int CountBindingRequests() const;
  bool WaitForBindingRequests(int n,
                              absl::Duration timeout = absl::Seconds(5)) const;
  // Client transport addresses coturn saw first since start or
  // ResetCounts(), "127.0.0.1:PORT" / "[::1]:PORT", in order.
  std::vector<std::string> ClientEndpoints() const;
  void ResetCounts();

  std::string ReadLog() const;  // For diagnostics.
  const std::string& log_path() const { return log_.path(); }

 private:
  CoturnServer(std::string ip, TempDir dir);
  absl::Status Launch();  // Spawns coturn on port_ and waits until ready.

  std::string ip_;
  TempDir dir_;
  LogFile log_;     // --log-file, all starts.
  LogFile output_;  // stdout and stderr, all starts.
  uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_COTURN_SERVER_H_
