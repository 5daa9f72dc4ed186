// WakePipe: ends a poll() loop from another thread. The loop polls read_fd()
// with its sockets and returns once it is readable; Wake() makes it so.
// Both ends are closed with the object. Used by the servers that run their
// own poll() thread (MetricsHttpServer, the DNS face's LineSocket).
#ifndef SIPRESOLVER_SERVER_WAKE_PIPE_H_
#define SIPRESOLVER_SERVER_WAKE_PIPE_H_

#include <fcntl.h>
#include <unistd.h>

#include <memory>

namespace sipresolver::server {

class WakePipe {
 public:
  // Null when pipe2 fails (errno says why).
  static std::unique_ptr<WakePipe> Create() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return nullptr;
    return std::unique_ptr<WakePipe>(new WakePipe(fds[0], fds[1]));
  }
  ~WakePipe() {
    close(read_fd_);
    close(write_fd_);
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  int read_fd() const { return read_fd_; }
  void Wake() {
    const char stop = 1;
    (void)!write(write_fd_, &stop, 1);
  }

 private:
  WakePipe(int read_fd, int write_fd)
      : read_fd_(read_fd), write_fd_(write_fd) {}
  const int read_fd_;
  const int write_fd_;
};

}  // namespace sipresolver::server

#endif  // SIPRESOLVER_SERVER_WAKE_PIPE_H_
