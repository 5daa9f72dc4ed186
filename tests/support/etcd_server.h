// EtcdServer: a real etcd (Debian 12 etcd-server 3.4.23, /usr/bin/etcd) on
// free ports of 127.0.0.1, one member or a three-member cluster, for the
// tests of the etcd client (server/etcd) and of replicas sharing probing.
//
// How it runs: each member is `etcd --name mN --data-dir DIR/mN` with
// plaintext (or mutual TLS) client and plaintext peer URLs on 127.0.0.1 and
// `--initial-cluster` naming every member; logs (zap, JSON lines) go to
// DIR/mN.log. A member is ready when GET /health on its plaintext metrics
// port (--listen-metrics-urls) says {"health":"true"} (it has a leader). A port
// taken by another process makes etcd exit with "bind: address already in use":
// the fixture then takes new ports.
//
// Facts (etcd 3.4): a lease TTL below 2 s is raised to 2 s (the minimum for
// the default 1 s election timeout); every write is fsynced before it is
// acknowledged, so SIGKILL loses nothing acknowledged and a restart on the
// same data dir keeps revisions and keys; a restart renews the remaining
// leases to their full TTL.
//
// Thread-compatible; create it on the test's thread (each member has
// PR_SET_PDEATHSIG tied to the creating thread, so no etcd outlives a
// crashed test).
#ifndef SIPRESOLVER_TESTS_SUPPORT_ETCD_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_ETCD_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "server/etcd/etcd_client.h"
#include "tests/support/child_process.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

// Mutual TLS on the client port: etcd's certificate and key, and the CA
// its clients' certificates must chain to (--client-cert-auth).
struct EtcdTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

class EtcdServer {
 public:
  // Starts `members` (1 or 3) members and waits, at most 30 s, until each
  // is healthy (~1 s here). The error includes their logs. With `tls` the
  // client port speaks mutual TLS (health is then read from a plaintext
  // metrics port).
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Start(
      int members = 1, std::optional<EtcdTlsFiles> tls = std::nullopt);

  // Stops every member and removes the data.
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // "127.0.0.1:P1[,127.0.0.1:P2,...]", as --etcd_endpoints takes it.
  std::string endpoints() const;
  int members() const { return static_cast<int>(members_.size()); }
  uint16_t client_port(int member) const {
    return members_[member]->client_port;
  }

  // SIGTERM, SIGKILL after 2 s; reaps. Idempotent.
  void Stop();
  void Stop(int member);
  // SIGKILL at once (a crash); reaps. Idempotent.
  void Kill();
  void Kill(int member);
  // Starts the stopped members again on the same ports and data, and waits
  // until every member is healthy.
  absl::Status Restart();
  bool running(int member) const { return members_[member]->process.running(); }

  // The running member that became leader last (raft's "became leader at
  // term N" in its log, the highest N), or -1 if none has yet.
  int Leader() const;

  std::string ReadLogs() const;  // For diagnostics.

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    uint16_t metrics_port = 0;  // /health, plaintext.
    LogFile log;
    ChildProcess process;
  };

  explicit EtcdServer(TempDir dir) : dir_(std::move(dir)) {}
  // Picks ports for every member; the client port of the first is given.
  absl::Status PickPorts(uint16_t first_client_port);
  // Spawns every member that does not run and waits until all are healthy.
  absl::Status Launch();
  std::vector<std::string> Argv(const Member& member) const;

  TempDir dir_;
  std::vector<std::unique_ptr<Member>> members_;
  std::optional<EtcdTlsFiles> tls_;
};

// A client of `etcd` with a generous deadline per call (a saturated
// machine); the test's own failure when it cannot be made.
std::unique_ptr<etcd::EtcdClient> ConnectTo(const EtcdServer& etcd);

// A test with one real etcd member (etcd_) and a client of it (client_).
class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override;

  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_ETCD_SERVER_H_
