#include "tests/support/coturn_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/loopback.h"
#include "tests/support/scoped_fd.h"

namespace sipresolver::testing {
namespace {

constexpr char kTurnserverPath[] = "/usr/bin/turnserver";
constexpr char kBindingLine[] = "BINDING processed";
constexpr char kEndpointLine[] = "New UDP endpoint:";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kProbeInterval = absl::Milliseconds(20);
constexpr absl::Duration kDrainTimeout = absl::Seconds(1);

// One readiness probe: a Binding request from its own connected socket, so
// that an ICMP unreachable (coturn not bound yet) shows as ECONNREFUSED.
// Written by hand rather than with lib/nat, so the fixture does not depend
// on the code it tests.
struct Probe {
  ScopedFd fd;
  std::string transaction_id;  // 12 bytes.
};

std::optional<Probe> SendProbe(const std::string& ip, uint16_t port,
                               std::mt19937_64& rng) {
  LoopbackAddress a(port, ip);
  ScopedFd fd(socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid() || connect(fd.get(), a.get(), a.size) != 0) {
    return std::nullopt;
  }
  std::string id(12, '\0');
  for (char& c : id) c = static_cast<char>(rng());
  std::string request("\x00\x01\x00\x00\x21\x12\xA4\x42", 8);
  request += id;
  if (send(fd.get(), request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  return Probe{std::move(fd), id};
}

enum class ProbeState { kPending, kAnswered, kRefused };

// Reads what has arrived for `probe`, without blocking.
ProbeState Poll(const Probe& probe) {
  char buf[1500];
  while (true) {
    ssize_t n = recv(probe.fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      return errno == ECONNREFUSED ? ProbeState::kRefused
                                   : ProbeState::kPending;
    }
    // A Binding success response with our transaction id.
    if (n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 &&
        std::string(buf + 8, 12) == probe.transaction_id) {
      return ProbeState::kAnswered;
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoturnServer>> CoturnServer::Start(
    const CoturnConfig& config) {
  if (config.listen_ip != "127.0.0.1" && config.listen_ip != "::1") {
    return absl::InvalidArgumentError(
        "listen_ip: only 127.0.0.1 and ::1 (tests stay on loopback)");
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("coturn");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<CoturnServer> server(
      new CoturnServer(config.listen_ip, *std::move(dir)));

  // coturn retries a bind forever; Launch() sees "Cannot bind" in its log.
  absl::Status s = StartOnFreePort([&] { return PickFreeUdpPort(server->ip_); },
                                   "Cannot bind",
                                   [&](uint16_t port) {
                                     server->port_ = port;
                                     return server->Launch();
                                   });
  if (!s.ok()) return s;
  return server;
}

CoturnServer::CoturnServer(std::string ip, TempDir dir)
    : ip_(std::move(ip)),
      dir_(std::move(dir)),
      log_(dir_.File("turnserver.log")),
      output_(dir_.File("turnserver.out")) {}

CoturnServer::~CoturnServer() { Stop(); }  // Then dir_ goes.

std::string CoturnServer::address() const {
  return ip_.find(':') != std::string::npos
             ? absl::StrCat("[", ip_, "]:", port_)
             : absl::StrCat(ip_, ":", port_);
}

absl::Status CoturnServer::Launch() {
  std::vector<std::string> args = {
      kTurnserverPath,
      "-n",  // No configuration file (/etc/turnserver.conf).
      "--stun-only",
      "--no-cli",
      "--no-tcp",
      "--no-tls",
      "--no-dtls",
      "--no-rfc5780",
      absl::StrCat("--listening-ip=", ip_),
      absl::StrCat("--listening-port=", port_),
      absl::StrCat("--log-file=", log_.path()),
      "--simple-log",  // Exactly that file name, no pid/date suffix.
      "--no-stdout-log",
      "--log-binding",  // Binding requests are not logged otherwise...
      "-v",             // ...nor new client endpoints.
      absl::StrCat("--pidfile=", dir_.File("turnserver.pid")),
      absl::StrCat("--db=", dir_.File("turndb")),
  };
  const size_t log_start = log_.Size();
  if (absl::Status s = process_.Start({args, output_.path(), output_.path()});
      !s.ok()) {
    return s;
  }
  auto failure = [&](absl::Status status, absl::string_view why) {
    return absl::Status(status.code(),
                        absl::StrCat(absl::StrJoin(args, " "), ": ", why,
                                     "; output: ", output_.Read(),
                                     "; log: ", log_.Read(log_start)));
  };
  std::mt19937_64 rng(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  std::vector<Probe> pending;  // Sent, neither answered nor refused yet.
  const absl::Time deadline = absl::Now() + kStartTimeout;
  bool answered = false;
  while (!answered) {
    if (std::optional<std::string> how = process_.CheckExited()) {
      return failure(absl::InternalError(""),
                     absl::StrCat("exited during start (", *how, ")"));
    }
    if (absl::StrContains(log_.Read(log_start), "Cannot bind")) {
      Stop();  // coturn would retry the bind forever.
      return failure(absl::UnavailableError(""), "Cannot bind (port in use)");
    }
    if (absl::Now() >= deadline) {
      Stop();
      return failure(absl::DeadlineExceededError(""),
                     absl::StrCat("no STUN answer within ",
                                  absl::FormatDuration(kStartTimeout)));
    }
    if (std::optional<Probe> p = SendProbe(ip_, port_, rng)) {
      pending.push_back(std::move(*p));
    }
    absl::SleepFor(kProbeInterval);
    for (auto it = pending.begin(); it != pending.end();) {
      const ProbeState state = Poll(*it);
      answered = answered || state == ProbeState::kAnswered;
      it = state == ProbeState::kPending ? it + 1 : pending.erase(it);
    }
  }
  // Probes sent before the answered one may still sit in coturn's socket:
  // wait until each is answered (or refused) so none is counted later.
  const absl::Time drain_deadline = absl::Now() + kDrainTimeout;
  while (!pending.empty() && absl::Now() < drain_deadline) {
    absl::SleepFor(absl::Milliseconds(2));
    for (auto it = pending.begin(); it != pending.end();) {
      it = Poll(*it) == ProbeState::kPending ? it + 1 : pending.erase(it);
    }
  }
  ResetCounts();
  return absl::OkStatus();
}

void CoturnServer::Stop() { process_.Stop(); }

void CoturnServer::Pause() { process_.Pause(); }

void CoturnServer::Resume() { process_.Resume(); }

int CoturnServer::CountBindingRequests() const {
  std::string log = log_.ReadSinceMark();
  int count = 0;
  for (size_t at = log.find(kBindingLine); at != std::string::npos;
       at = log.find(kBindingLine, at + 1)) {
    ++count;
  }
  return count;
}

bool CoturnServer::WaitForBindingRequests(int n, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (CountBindingRequests() >= n) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

std::vector<std::string> CoturnServer::ClientEndpoints() const {
  // "1: : handle_udp_packet: New UDP endpoint: local addr 127.0.0.1:3478,
  // remote addr 127.0.0.1:40000"
  std::vector<std::string> out;
  std::string log = log_.ReadSinceMark();
  log.erase(log.rfind('\n') + 1);  // Not a line being written right now.
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, kEndpointLine)) continue;
    const size_t at = line.rfind("remote addr ");
    if (at == absl::string_view::npos) continue;
    out.emplace_back(absl::StripAsciiWhitespace(line.substr(at + 12)));
  }
  return out;
}

void CoturnServer::ResetCounts() { log_.Mark(); }

std::string CoturnServer::ReadLog() const { return log_.Read(); }

}  // namespace sipresolver::testing
