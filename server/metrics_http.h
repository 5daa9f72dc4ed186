// MetricsHttpServer: serves one page, GET /metrics, over HTTP/1.1 on an IPv4
// or IPv6 address, for Prometheus.
//
// Our own rather than prometheus-cpp's exposer: the civetweb under that
// exposer is built without IPv6 in Debian, so an IPv6-only cluster could not
// scrape the service. Small on purpose: one thread, poll(), one response per
// connection (Connection: close), and a limit on everything a client
// controls (connections, the oldest dropped for a new one; request size;
// time to send it and read the answer).
#ifndef SIPRESOLVER_SERVER_METRICS_HTTP_H_
#define SIPRESOLVER_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/wake_pipe.h"

namespace sipresolver::server {

class MetricsHttpServer {
 public:
  // The page's body, in Prometheus' text format; called on the server's
  // thread for every scrape.
  using Render = std::function<std::string()>;

  // Listens on `listen`: "HOST:PORT" or "[IPV6]:PORT" ("[::]" takes IPv4
  // too; port 0 picks one).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view listen, Render render);
  ~MetricsHttpServer();  // Stops; open connections are closed.

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

  // Limits on what a client controls.
  static constexpr int kMaxConnections = 16;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr int kRequestTimeoutSeconds = 10;

 private:
  MetricsHttpServer(int listen_fd, int port, std::unique_ptr<WakePipe> wake,
                    Render render);
  void Run();

  const int listen_fd_;
  const int port_;
  const std::unique_ptr<WakePipe> wake_;  // Ends Run().
  const Render render_;
  std::thread thread_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_METRICS_HTTP_H_
