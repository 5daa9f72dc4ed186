// LossyUdpRelay: a UDP relay on loopback that drops datagrams at random, to
// put a lossy path between a prober and a healthy registrar in a benchmark.
//
// It listens on 127.0.0.1:port(); each client address that sends to it gets
// its own upstream socket connected to the target, so the target's replies
// (sent to the relay's upstream port, as SIP's rport asks) find their way
// back to that client through the listening socket. Each datagram, either
// way, is dropped with probability `loss`, from a seeded generator. Upstream
// sockets idle for 10 s are closed (probers use a new port per probe).
//
// Runs its own thread from Start() until destruction.
#ifndef SIPRESOLVER_TESTS_BENCH_LOSSY_UDP_RELAY_H_
#define SIPRESOLVER_TESTS_BENCH_LOSSY_UDP_RELAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace sipresolver::testing {

class LossyUdpRelay {
 public:
  struct Counts {
    uint64_t forwarded = 0;  // Client to target.
    uint64_t dropped = 0;
    uint64_t returned = 0;  // Target to client.
    uint64_t dropped_back = 0;
  };

  static absl::StatusOr<std::unique_ptr<LossyUdpRelay>> Start(
      uint16_t target_port, double loss, uint64_t seed);
  ~LossyUdpRelay();

  uint16_t port() const { return port_; }
  // Datagrams from clients other than `from_port`, or from it alone.
  Counts CountsExcept(uint16_t from_port) const;
  Counts CountsOf(uint16_t from_port) const;

 private:
  LossyUdpRelay() = default;
  void Run();

  struct State;
  std::unique_ptr<State> state_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_BENCH_LOSSY_UDP_RELAY_H_
