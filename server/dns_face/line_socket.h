// LineSocket: a unix stream socket that answers each line a client sends
// with one line, in order, on one thread (poll()). PowerDNS's remote backend
// keeps one connection per backend thread and sends a request only once the
// previous reply is in, so one thread answering from memory keeps up.
//
// Limits on what a client controls: connections (the oldest is dropped for
// a new one: PowerDNS reconnects on its next question), the length of a
// line (the connection is dropped), and replies queued for a client that
// does not read (nothing more is read from it until they are out).
#ifndef SIPRESOLVER_SERVER_DNS_FACE_LINE_SOCKET_H_
#define SIPRESOLVER_SERVER_DNS_FACE_LINE_SOCKET_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/wake_pipe.h"

namespace sipresolver::server::dns_face {

class LineSocket {
 public:
  // Called on the socket's thread with each line (without its newline);
  // returns the reply (without one).
  using Handler = std::function<std::string(absl::string_view line)>;

  // Creates the socket at `path` (replacing a socket file left there, never
  // any other file), readable and writable by its owner and group only.
  static absl::StatusOr<std::unique_ptr<LineSocket>> Start(
      const std::string& path, Handler handler);
  ~LineSocket();  // Stops, closes every connection and removes the file.

  LineSocket(const LineSocket&) = delete;
  LineSocket& operator=(const LineSocket&) = delete;

  static constexpr size_t kMaxConnections = 128;
  static constexpr size_t kMaxLineBytes = size_t{64} * 1024;
  static constexpr size_t kMaxQueuedBytes = 1 << 20;

 private:
  LineSocket(std::string path, int listen_fd, std::unique_ptr<WakePipe> wake,
             Handler handler);
  void Run();

  const std::string path_;
  const int listen_fd_;
  const std::unique_ptr<WakePipe> wake_;  // The destructor ends Run().
  const Handler handler_;
  std::thread thread_;
};

}  // namespace sipresolver::server::dns_face

#endif  // SIPRESOLVER_SERVER_DNS_FACE_LINE_SOCKET_H_
