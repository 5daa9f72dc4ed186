#include "server/dns_face/line_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sipresolver::server::dns_face {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("dns_face_socket: ", what, " ",
                                             path, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineSocket>> LineSocket::Start(
    const std::string& path, Handler handler) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("dns_face_socket: a path of 1 to ",
                     sizeof(addr.sun_path) - 1, " characters"));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dns_face_socket: ", path, " exists and is not a socket"));
    }
    unlink(path.c_str());  // Left by an earlier run.
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket", path);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  // Group access for a DNS server running as another user of the group.
  const mode_t old_mask = umask(0117);
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old_mask);
  if (bound != 0 || listen(fd, 64) != 0) {
    absl::Status status = Errno("cannot listen on", path);
    close(fd);
    return status;
  }
  std::unique_ptr<WakePipe> wake = WakePipe::Create();
  if (wake == nullptr) {
    absl::Status status = Errno("pipe for", path);
    close(fd);
    unlink(path.c_str());
    return status;
  }
  std::unique_ptr<LineSocket> server(
      new LineSocket(path, fd, std::move(wake), std::move(handler)));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

LineSocket::LineSocket(std::string path, int listen_fd,
                       std::unique_ptr<WakePipe> wake, Handler handler)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      wake_(std::move(wake)),
      handler_(std::move(handler)) {}

LineSocket::~LineSocket() {
  wake_->Wake();
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  unlink(path_.c_str());
}

void LineSocket::Run() {
  struct Connection {
    int fd;
    std::string in;
    std::string out;
    size_t sent = 0;
  };
  std::vector<Connection> connections;
  const auto drop = [&](size_t i) {
    close(connections[i].fd);
    connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
  };
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{wake_->read_fd(), POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    for (const Connection& c : connections) {
      short events = 0;
      if (c.out.size() - c.sent < kMaxQueuedBytes) events |= POLLIN;
      if (c.sent < c.out.size()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
    }
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) break;

    // Backwards, so that dropping one keeps the others' indexes.
    for (size_t i = connections.size(); i-- > 0;) {
      Connection& c = connections[i];
      const short revents = fds[2 + i].revents;
      if (revents & (POLLERR | POLLNVAL)) {
        drop(i);
        continue;
      }
      if (revents & (POLLIN | POLLHUP)) {
        char buf[8192];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          drop(i);
          continue;
        }
        if (n > 0) c.in.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t end; (end = c.in.find('\n', start)) != std::string::npos;
             start = end + 1) {
          absl::string_view line(c.in.data() + start, end - start);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.empty()) continue;
          absl::StrAppend(&c.out, handler_(line), "\n");
        }
        c.in.erase(0, start);
        if (c.in.size() > kMaxLineBytes) {
          drop(i);
          continue;
        }
      }
      if (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd, c.out.data() + c.sent,
                               c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          drop(i);
          continue;
        }
        if (n > 0) c.sent += static_cast<size_t>(n);
        if (c.sent == c.out.size()) {
          c.out.clear();
          c.sent = 0;
        }
      }
    }

    if (fds[1].revents & POLLIN) {
      const int fd =
          accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        if (connections.size() >= kMaxConnections) drop(0);
        connections.push_back({fd, "", "", 0});
      }
    }
  }
  for (const Connection& c : connections) close(c.fd);
}

}  // namespace sipresolver::server::dns_face
