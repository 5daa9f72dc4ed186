#include "tests/support/unix_datagram.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sipresolver::testing {

absl::Status SendDatagram(const std::string& path, absl::string_view data) {
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("path too long: ", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  const ssize_t sent =
      sendto(fd, data.data(), data.size(), 0,
             reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = errno;
  close(fd);
  if (sent != static_cast<ssize_t>(data.size())) {
    return absl::ErrnoToStatus(error, absl::StrCat("sendto ", path));
  }
  return absl::OkStatus();
}

}  // namespace sipresolver::testing
