#include "tests/support/etcd_server.h"

#include <signal.h>

#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback.h"
#include "tests/support/standard_services.h"

namespace sipresolver::testing {
namespace {

constexpr char kEtcdPath[] = "/usr/bin/etcd";
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kProbeInterval = absl::Milliseconds(50);

std::string Url(uint16_t port) {
  return absl::StrCat("http://127.0.0.1:", port);
}

bool Healthy(uint16_t port) {
  absl::StatusOr<std::string> body = HttpGet(port, "/health");
  return body.ok() && absl::StrContains(*body, "\"health\":\"true\"");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Start(
    int members, std::optional<EtcdTlsFiles> tls) {
  if (members != 1 && members != 3) {
    return absl::InvalidArgumentError("members: 1 or 3");
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("etcd");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<EtcdServer> server(new EtcdServer(*std::move(dir)));
  server->tls_ = std::move(tls);
  for (int i = 0; i < members; ++i) {
    auto member = std::make_unique<Member>();
    member->name = absl::StrCat("m", i);
    member->log =
        LogFile(server->dir_.File(absl::StrCat(member->name, ".log")));
    server->members_.push_back(std::move(member));
  }
  absl::Status s = StartOnFreePort(
      []() -> absl::StatusOr<uint16_t> {
        const uint16_t port = PickFreePort();
        if (port == 0) return absl::UnavailableError("no free TCP port");
        return port;
      },
      "in use",
      [&](uint16_t port) {
        // A failed attempt may have left data naming its peer URLs.
        for (const auto& m : server->members_) {
          std::error_code ignored;
          std::filesystem::remove_all(server->dir_.File(m->name), ignored);
        }
        absl::Status picked = server->PickPorts(port);
        return picked.ok() ? server->Launch() : picked;
      });
  if (!s.ok()) return s;
  return server;
}

EtcdServer::~EtcdServer() { Stop(); }  // Then dir_ goes.

absl::Status EtcdServer::PickPorts(uint16_t first_client_port) {
  std::set<uint16_t> taken = {first_client_port};
  for (size_t i = 0; i < members_.size(); ++i) {
    for (uint16_t* port : {&members_[i]->client_port, &members_[i]->peer_port,
                           &members_[i]->metrics_port}) {
      if (i == 0 && port == &members_[i]->client_port) {
        *port = first_client_port;
        continue;
      }
      do {
        *port = PickFreePort();
        if (*port == 0) return absl::UnavailableError("no free TCP port");
      } while (!taken.insert(*port).second);
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> EtcdServer::Argv(const Member& member) const {
  std::vector<std::string> cluster;
  for (const auto& m : members_) {
    cluster.push_back(absl::StrCat(m->name, "=", Url(m->peer_port)));
  }
  const std::string client_url = absl::StrCat(
      tls_ ? "https" : "http", "://127.0.0.1:", member.client_port);
  std::vector<std::string> argv = {
      kEtcdPath,
      absl::StrCat("--name=", member.name),
      absl::StrCat("--data-dir=", dir_.File(member.name)),
      absl::StrCat("--listen-client-urls=", client_url),
      absl::StrCat("--advertise-client-urls=", client_url),
      absl::StrCat("--listen-metrics-urls=", Url(member.metrics_port)),
      absl::StrCat("--listen-peer-urls=", Url(member.peer_port)),
      absl::StrCat("--initial-advertise-peer-urls=", Url(member.peer_port)),
      absl::StrCat("--initial-cluster=", absl::StrJoin(cluster, ",")),
      "--initial-cluster-state=new",  // Ignored once the data dir exists.
      "--initial-cluster-token=sipresolver-test",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  if (tls_) {
    argv.insert(argv.end(),
                {absl::StrCat("--cert-file=", tls_->cert_file),
                 absl::StrCat("--key-file=", tls_->key_file),
                 absl::StrCat("--trusted-ca-file=", tls_->client_ca_file),
                 "--client-cert-auth"});
  }
  return argv;
}

absl::Status EtcdServer::Launch() {
  std::vector<size_t> log_starts;
  for (const auto& m : members_) {
    log_starts.push_back(m->log.Size());
    if (m->process.running()) continue;
    if (absl::Status s =
            m->process.Start({Argv(*m), m->log.path(), m->log.path()});
        !s.ok()) {
      Stop();
      return s;
    }
  }
  auto failure = [&](absl::StatusCode code, absl::string_view why) {
    std::string logs;
    for (size_t i = 0; i < members_.size(); ++i) {
      absl::StrAppend(&logs, "\n--- ", members_[i]->name, ": ",
                      absl::StrJoin(Argv(*members_[i]), " "), "\n",
                      members_[i]->log.Read(log_starts[i]));
    }
    Stop();
    return absl::Status(code, absl::StrCat("etcd: ", why, logs));
  };
  const absl::Time deadline = absl::Now() + kStartTimeout;
  while (true) {
    bool all_healthy = true;
    for (const auto& m : members_) {
      if (std::optional<std::string> how = m->process.CheckExited()) {
        return failure(
            absl::StatusCode::kInternal,
            absl::StrCat(m->name, " exited during start (", *how, ")"));
      }
      all_healthy = all_healthy && Healthy(m->metrics_port);
    }
    if (all_healthy) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return failure(absl::StatusCode::kDeadlineExceeded,
                     absl::StrCat("not healthy within ",
                                  absl::FormatDuration(kStartTimeout)));
    }
    absl::SleepFor(kProbeInterval);
  }
}

std::string EtcdServer::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    out.push_back(absl::StrCat("127.0.0.1:", m->client_port));
  }
  return absl::StrJoin(out, ",");
}

void EtcdServer::Stop() {
  for (size_t i = 0; i < members_.size(); ++i) Stop(static_cast<int>(i));
}

void EtcdServer::Stop(int member) { members_[member]->process.Stop(); }

void EtcdServer::Kill() {
  for (size_t i = 0; i < members_.size(); ++i) Kill(static_cast<int>(i));
}

void EtcdServer::Kill(int member) {
  ChildProcess& process = members_[member]->process;
  if (!process.running()) return;
  kill(process.pid(), SIGKILL);
  process.Stop();  // Reaps it; the SIGTERM finds it dead already.
}

absl::Status EtcdServer::Restart() { return Launch(); }

int EtcdServer::Leader() const {
  constexpr absl::string_view kBecame = "became leader at term ";
  int leader = -1;
  uint64_t best_term = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!members_[i]->process.running()) continue;
    const std::string text = members_[i]->log.Read();
    const absl::string_view log = text;
    for (size_t pos = log.find(kBecame); pos != absl::string_view::npos;
         pos = log.find(kBecame, pos + 1)) {
      const size_t start = pos + kBecame.size();
      const size_t end = log.find_first_not_of("0123456789", start);
      uint64_t term = 0;
      if (absl::SimpleAtoi(log.substr(start, end - start), &term) &&
          term > best_term) {
        best_term = term;
        leader = static_cast<int>(i);
      }
    }
  }
  return leader;
}

std::string EtcdServer::ReadLogs() const {
  std::string out;
  for (const auto& m : members_) {
    absl::StrAppend(&out, "--- ", m->name, "\n", m->log.Read());
  }
  return out;
}

std::unique_ptr<etcd::EtcdClient> ConnectTo(const EtcdServer& etcd) {
  etcd::EtcdClientOptions options;
  options.endpoints = etcd.endpoints();
  options.request_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

void EtcdTest::SetUp() {
  absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  etcd_ = *std::move(etcd);
  client_ = ConnectTo(*etcd_);
  ASSERT_NE(client_, nullptr);
}

}  // namespace sipresolver::testing
