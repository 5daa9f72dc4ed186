#include "tests/bench/lossy_udp_relay.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/support/loopback.h"

namespace sipresolver::testing {

struct LossyUdpRelay::State {
  struct Upstream {
    int fd = -1;
    absl::Time last_used;
  };
  int listen_fd = -1;
  uint16_t target_port = 0;
  double loss = 0;
  std::mt19937_64 random;
  std::map<uint16_t, Upstream> upstreams;  // By client port (all 127.0.0.1).
  mutable absl::Mutex mu;
  std::map<uint16_t, Counts> counts ABSL_GUARDED_BY(mu);  // By client port.

  bool Drop() {
    return std::uniform_real_distribution<double>(0, 1)(random) < loss;
  }
};

absl::StatusOr<std::unique_ptr<LossyUdpRelay>> LossyUdpRelay::Start(
    uint16_t target_port, double loss, uint64_t seed) {
  std::unique_ptr<LossyUdpRelay> relay(new LossyUdpRelay());
  relay->state_ = std::make_unique<State>();
  State& s = *relay->state_;
  s.target_port = target_port;
  s.loss = loss;
  s.random.seed(seed);
  s.listen_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  relay->port_ = s.listen_fd < 0 ? 0 : BindLoopback(s.listen_fd, 0);
  if (relay->port_ == 0) {
    return absl::InternalError(
        absl::StrCat("relay socket: ", std::strerror(errno)));
  }
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

LossyUdpRelay::~LossyUdpRelay() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& [port, up] : state_->upstreams) close(up.fd);
  if (state_->listen_fd >= 0) close(state_->listen_fd);
}

LossyUdpRelay::Counts LossyUdpRelay::CountsOf(uint16_t from_port) const {
  absl::MutexLock lock(&state_->mu);
  auto it = state_->counts.find(from_port);
  return it == state_->counts.end() ? Counts{} : it->second;
}

LossyUdpRelay::Counts LossyUdpRelay::CountsExcept(uint16_t from_port) const {
  absl::MutexLock lock(&state_->mu);
  Counts total;
  for (const auto& [port, c] : state_->counts) {
    if (port == from_port) continue;
    total.forwarded += c.forwarded;
    total.dropped += c.dropped;
    total.returned += c.returned;
    total.dropped_back += c.dropped_back;
  }
  return total;
}

void LossyUdpRelay::Run() {
  State& s = *state_;
  char buffer[65536];
  while (!stop_) {
    std::vector<pollfd> fds = {{s.listen_fd, POLLIN, 0}};
    std::vector<uint16_t> clients = {0};
    for (const auto& [client, up] : s.upstreams) {
      fds.push_back({up.fd, POLLIN, 0});
      clients.push_back(client);
    }
    if (poll(fds.data(), fds.size(), 50) < 0 && errno != EINTR) return;
    const absl::Time now = absl::Now();
    if (fds[0].revents & POLLIN) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = recvfrom(s.listen_fd, buffer, sizeof(buffer), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
      const uint16_t client = ntohs(from.sin_port);
      if (n > 0) {
        State::Upstream& up = s.upstreams[client];
        if (up.fd < 0) {
          up.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
          BindLoopback(up.fd, 0);
          LoopbackAddress target(s.target_port);
          connect(up.fd, target.get(), sizeof(sockaddr_in));
        }
        up.last_used = now;
        const bool drop = s.Drop();
        if (!drop) send(up.fd, buffer, n, 0);
        absl::MutexLock lock(&s.mu);
        ++(drop ? s.counts[client].dropped : s.counts[client].forwarded);
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      const ssize_t n = recv(fds[i].fd, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;  // E.g. ICMP refusal while the target restarts.
      s.upstreams[clients[i]].last_used = now;
      const bool drop = s.Drop();
      if (!drop) {
        LoopbackAddress client(clients[i]);
        sendto(s.listen_fd, buffer, n, 0, client.get(), sizeof(sockaddr_in));
      }
      absl::MutexLock lock(&s.mu);
      ++(drop ? s.counts[clients[i]].dropped_back
              : s.counts[clients[i]].returned);
    }
    for (auto it = s.upstreams.begin(); it != s.upstreams.end();) {
      if (now - it->second.last_used > absl::Seconds(10)) {
        close(it->second.fd);
        it = s.upstreams.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace sipresolver::testing
