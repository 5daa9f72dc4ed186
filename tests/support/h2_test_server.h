// H2TestServer: an HTTP/2 (h2c) server on loopback whose every answer a test
// scripts, to play the broken or hostile gRPC servers a device agent must
// survive: GOAWAY for every call, resets, trailers-only errors, oversized or
// garbled messages, silence. Built on libnghttp2's server side, on a thread
// of its own; every connection is served until the test says otherwise.
#ifndef SIPRESOLVER_TESTS_SUPPORT_H2_TEST_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_H2_TEST_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sipresolver::testing {

// What the server does with one call, step by step, once its request is in.
struct H2Step {
  enum Kind {
    kHeaders,   // :status `code` (200), content-type application/grpc.
    kData,      // `bytes` as DATA (a gRPC message needs its own prefix).
    kTrailers,  // `headers`, ending the stream (trailers-only if first).
    kReset,     // RST_STREAM with error `code`.
    kGoaway,    // GOAWAY with error `code`, debug data `bytes`, last stream
                // id 0 (the call is refused), then the connection closes.
    kSilence,   // Stop reading and writing this connection (a dead peer).
  };
  Kind kind;
  uint32_t code = 0;
  std::string bytes;
  std::vector<std::pair<std::string, std::string>> headers;
};
using H2Script = std::vector<H2Step>;

// A gRPC message: the 5-byte prefix and `message`.
std::string GrpcFrame(const std::string& message);
// A whole call ending with grpc-status `code` and `message` (already
// percent-encoded), after `messages` (already serialized).
H2Script GrpcCall(const std::vector<std::string>& messages, int code,
                  const std::string& message = "");

class H2TestServer {
 public:
  // Answers call number n (0, 1, ...) with script(n).
  static absl::StatusOr<std::unique_ptr<H2TestServer>> Start(
      std::function<H2Script(int call)> script);
  ~H2TestServer();

  std::string address() const;  // "127.0.0.1:PORT".
  // Sends `bytes` as more DATA of call `call` (one whose script left it
  // open: headers, maybe data, no trailers), as soon as the server's thread
  // gets to it. Returns at once.
  void Send(int call, std::string bytes);

  int connections() const { return connections_; }
  int calls() const { return calls_; }
  int pings() const { return pings_; }
  std::vector<std::string> paths() const;  // Of every call, in order.

 private:
  struct Connection;
  H2TestServer() = default;
  void Loop();

  std::function<H2Script(int)> script_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> connections_{0}, calls_{0}, pings_{0};
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  std::vector<std::string> paths_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int, std::string>> outbox_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: runs Loop() over everything above.
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_H2_TEST_SERVER_H_
