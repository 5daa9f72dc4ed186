// ReportSocket: the unix datagram socket of `sipresolver watch
// --report_socket`, on which the device's SIP stack (or a one-line shell
// command) says how each REGISTER went, so that the agent can move by
// itself while it is without the service (local_decisions.h) and tell the
// service when it is there.
//
// Every datagram carries one or more lines "ADDRESS:PORT CODE"
// (device_report.h, the parser both agents share). Each good line goes to
// `on_report`; a bad one is counted and logged with the reason, never more.
//
// The socket file: a stale one (no process bound to it) is removed before
// binding; one in use, or a file that is not a socket, is an error. Mode
// 0660, so a group (the SIP stack's) can write to it. Removed again by the
// destructor.
//
// Threading: datagrams are read and `on_report` runs on a thread of the
// socket's own, one report at a time (it may block: a report to the
// service waits for its RPC; datagrams queue in the socket meanwhile). The
// destructor stops it and waits for a running `on_report`.
#ifndef SIPRESOLVER_CLIENT_REPORT_SOCKET_H_
#define SIPRESOLVER_CLIENT_REPORT_SOCKET_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/device_report.h"

namespace sipresolver::client {

struct ReportSocketStats {
  int reports = 0;    // Good lines handed to on_report.
  int bad_lines = 0;  // Lines refused (and datagrams too long to read).
};

class ReportSocket {
 public:
  struct Options {
    std::string path;
    std::function<void(const device_report& report)> on_report;
    std::function<void(const std::string& message)> log;  // Optional.
  };
  // Binds the socket and starts reading. INVALID_ARGUMENT for a path that
  // is too long or holds something else; FAILED_PRECONDITION when another
  // process is bound to it; the errno's status otherwise.
  static absl::StatusOr<std::unique_ptr<ReportSocket>> Create(Options options);
  ~ReportSocket();
  ReportSocket(const ReportSocket&) = delete;
  ReportSocket& operator=(const ReportSocket&) = delete;

  ReportSocketStats stats() const;

 private:
  ReportSocket(Options options, int fd, int wake_fd);
  void Loop();
  void Datagram(const char* data, size_t size);

  const Options options_;
  const int fd_;
  const int wake_fd_;  // An eventfd: written to stop the loop.
  mutable absl::Mutex mu_;
  ReportSocketStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: starts once everything above exists.
};

}  // namespace sipresolver::client

#endif  // SIPRESOLVER_CLIENT_REPORT_SOCKET_H_
