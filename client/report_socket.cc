#include "client/report_socket.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sipresolver::client {
namespace {

constexpr size_t kMaxDatagram = 65536;

absl::Status Errno(const std::string& what) {
  return absl::ErrnoToStatus(errno, what);
}

// Whether some process is bound to the socket at `address`: a datagram
// socket connects to it only then (ECONNREFUSED for a stale file).
bool InUse(const sockaddr_un& address) {
  const int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  const bool connected =
      connect(probe, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) == 0;
  close(probe);
  return connected;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReportSocket>> ReportSocket::Create(
    Options options) {
  const std::string& path = options.path;
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--report_socket: \"", path, "\" must be 1-",
                     sizeof(address.sun_path) - 1, " bytes long"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  struct stat st = {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--report_socket: ", path, " exists and is not a socket"));
    }
    if (InUse(address)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--report_socket: another process is bound to ", path));
    }
    unlink(path.c_str());  // Stale: left by an agent that was killed.
  }
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("--report_socket: socket");
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
      0) {
    absl::Status s = Errno(absl::StrCat("--report_socket: bind ", path));
    close(fd);
    return s;
  }
  if (chmod(path.c_str(), 0660) != 0) {
    absl::Status s = Errno(absl::StrCat("--report_socket: chmod ", path));
    close(fd);
    unlink(path.c_str());
    return s;
  }
  const int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    absl::Status s = Errno("--report_socket: eventfd");
    close(fd);
    unlink(path.c_str());
    return s;
  }
  return std::unique_ptr<ReportSocket>(
      new ReportSocket(std::move(options), fd, wake));
}

ReportSocket::ReportSocket(Options options, int fd, int wake_fd)
    : options_(std::move(options)),
      fd_(fd),
      wake_fd_(wake_fd),
      thread_([this] { Loop(); }) {}

ReportSocket::~ReportSocket() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    // An eventfd write fails only at its counter's limit: the loop wakes.
  }
  thread_.join();
  close(fd_);
  close(wake_fd_);
  unlink(options_.path.c_str());
}

ReportSocketStats ReportSocket::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void ReportSocket::Loop() {
  std::vector<char> buffer(kMaxDatagram);
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      if (options_.log) options_.log(Errno("report socket: poll").ToString());
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const ssize_t n =
        recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0) continue;  // EAGAIN, EINTR: poll again.
    if (static_cast<size_t>(n) > buffer.size()) {
      {
        absl::MutexLock lock(&mu_);
        ++stats_.bad_lines;
      }
      if (options_.log) {
        options_.log(absl::StrCat("report socket: a datagram of ", n,
                                  " bytes is longer than ", kMaxDatagram,
                                  ": ignored"));
      }
      continue;
    }
    Datagram(buffer.data(), static_cast<size_t>(n));
  }
}

void ReportSocket::Datagram(const char* data, size_t size) {
  const char* cursor = data;
  const char* line = nullptr;
  size_t len = 0;
  while (device_report_next_line(&cursor, data + size, &line, &len)) {
    device_report report = {};
    const char* error = nullptr;
    if (device_report_parse(line, len, &report, &error) == 0) {
      {
        absl::MutexLock lock(&mu_);
        ++stats_.reports;
      }
      if (options_.on_report) options_.on_report(report);
      continue;
    }
    int bad;
    {
      absl::MutexLock lock(&mu_);
      bad = ++stats_.bad_lines;
    }
    if (options_.log) {
      constexpr size_t kShown = 100;
      const absl::string_view shown(line, std::min(len, kShown));
      options_.log(absl::StrCat(
          "report socket: bad line \"", absl::CHexEscape(shown),
          len > kShown ? "..." : "", "\": ", error, " (", bad, " bad so far)"));
    }
  }
}

}  // namespace sipresolver::client
