// ScopedFd: owns a file descriptor and closes it when it goes out of scope,
// so that the socket and process code of the test fixtures cannot leak one
// on an early return. Move-only.
#ifndef SIPRESOLVER_TESTS_SUPPORT_SCOPED_FD_H_
#define SIPRESOLVER_TESTS_SUPPORT_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace sipresolver::testing {

class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() { Reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor now (if any).
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_SCOPED_FD_H_
