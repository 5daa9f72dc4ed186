#include "tests/support/baresip_phone.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/eventually.h"
#include "tests/support/loopback.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {
namespace {

constexpr char kToken[] = "sipresolver-test";

absl::StatusOr<ScopedFd> Connect(uint16_t port) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  timeval timeout{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("baresip ctrl_tcp on port ", port, " refuses"));
  }
  return fd;
}

// JSON string escaping for the few characters a command may contain.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::unique_ptr<BaresipPhone>> BaresipPhone::Start(
    uint16_t dns_port) {
  std::unique_ptr<BaresipPhone> phone(new BaresipPhone());
  auto dir = TempDir::Create("baresip");
  if (!dir.ok()) return dir.status();
  phone->dir_ = *std::move(dir);
  phone->ctrl_port_ = PickFreePort();
  phone->ctrl_address_ = absl::StrCat("127.0.0.1:", phone->ctrl_port_);
  auto sip = PickFreeUdpTcpPort();
  if (!sip.ok()) return sip.status();
  // ctrl_tcp not on SIP port + 1: baresip takes that for SIP over TLS.
  std::ofstream(phone->File("config"))
      << "poll_method epoll\n"
      << "sip_listen 127.0.0.1:" << *sip << "\n"
      << "dns_server 127.0.0.1:" << dns_port << "\n"
      << "module_path /usr/lib/baresip/modules\n"
      << "module g711.so\n"
      << "module_app account.so\nmodule_app menu.so\n"
      << "module_app ctrl_tcp.so\n"
      << "ctrl_tcp_listen " << phone->ctrl_address_ << "\n"
      << "audio_player aufile.so\naudio_source ausine.so\n";
  std::ofstream(phone->File("accounts")).flush();
  auto process =
      Subprocess::Start({"/usr/bin/baresip", "-f", phone->dir_.path()});
  if (!process.ok()) return process.status();
  phone->process_ = *std::move(process);
  if (!Eventually([&] { return Connect(phone->ctrl_port_).ok(); })) {
    return absl::DeadlineExceededError(
        absl::StrCat("baresip's ctrl_tcp never answered:\n", phone->Output()));
  }
  return phone;
}

absl::StatusOr<std::string> BaresipPhone::Command(
    const std::string& name, const std::string& params) const {
  absl::StatusOr<ScopedFd> fd = Connect(ctrl_port_);
  if (!fd.ok()) return fd.status();
  const std::string body = absl::StrCat("{\"command\":", JsonString(name),
                                        ",\"params\":", JsonString(params),
                                        ",\"token\":\"", kToken, "\"}");
  const std::string message = absl::StrCat(body.size(), ":", body, ",");
  if (send(fd->get(), message.data(), message.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(message.size())) {
    return absl::UnavailableError("cannot send to baresip");
  }
  // Netstrings until our response (events may come first).
  std::string buffer;
  while (true) {
    const size_t colon = buffer.find(':');
    size_t length = 0;
    if (colon != std::string::npos &&
        absl::SimpleAtoi(buffer.substr(0, colon), &length) &&
        buffer.size() > colon + 1 + length) {
      const std::string json = buffer.substr(colon + 1, length);
      buffer.erase(0, colon + 2 + length);
      if (json.find("\"response\":true") == std::string::npos ||
          json.find(kToken) == std::string::npos) {
        continue;
      }
      if (json.find("\"ok\":true") == std::string::npos) {
        return absl::InternalError(absl::StrCat("baresip refused ", name));
      }
      return json;
    }
    char chunk[4096];
    const ssize_t n = recv(fd->get(), chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("baresip did not answer ", name));
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace sipresolver::testing
