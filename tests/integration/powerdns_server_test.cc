// Checks PowerDnsServer and Dig against a real PowerDNS 4.7.3 whose remote
// backend is a fake in this file, and pins what sipresolverd's DNS face
// relies on (see powerdns_server.h): answers as the backend gave them (but
// RRsets shuffled), ENT -> NODATA, error reply and silent backend ->
// SERVFAIL, the default caches (a change shows within about a second, at
// once after Purge).
#include "tests/support/powerdns_server.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/dig.h"
#include "tests/support/eventually.h"
#include "tests/support/scoped_fd.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kApex[] = "fleet.test.";
constexpr char kSoa[] =
    "ns1.fleet.test. hostmaster.fleet.test. 1 3600 600 86400 5";

struct FakeRecord {
  std::string qtype;  // "A", "SRV", "ENT", ...
  std::string content;
  uint32_t ttl = 30;
};

// What the fake backend does for lookups of one name.
struct FakeName {
  std::vector<FakeRecord> records;
  std::optional<std::string> reply_line;  // Sent instead of {"result":...}.
  bool silent = false;                    // Never answers.
};

FakeName Records(std::vector<FakeRecord> records) {
  FakeName n;
  n.records = std::move(records);
  return n;
}

// A remote backend speaking PowerDNS's JSON lines on a unix socket: one
// thread polls the listening socket and every connection PowerDNS opens
// (one per backend thread). initialize -> true; lookup -> the records of the
// name of that qtype (all for ANY), false if none; other methods -> false.
class FakeRemoteBackend {
 public:
  explicit FakeRemoteBackend(std::string path) : path_(std::move(path)) {
    Set(kApex, Records({{"SOA", kSoa, 5}}));
    listener_ = ScopedFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) {
      ADD_FAILURE() << "socket path too long: " << path_;
      return;
    }
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    if (bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr),
             sizeof(addr)) != 0 ||
        listen(listener_.get(), 16) != 0) {
      ADD_FAILURE() << "bind/listen " << path_ << ": " << strerror(errno);
      return;
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeRemoteBackend() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();  // Polls every 20 ms.
  }

  // Names are absolute, lower case: "a.fleet.test.".
  void Set(const std::string& qname, FakeName behaviour) {
    std::lock_guard<std::mutex> lock(mu_);
    names_[qname] = std::move(behaviour);
  }
  int lookups(const std::string& qname) {
    std::lock_guard<std::mutex> lock(mu_);
    return lookups_[qname];
  }

 private:
  struct Connection {
    ScopedFd fd;
    std::string buffer;
  };

  void Serve() {
    std::vector<Connection> connections;
    while (!stop_) {
      std::vector<pollfd> fds = {{listener_.get(), POLLIN, 0}};
      for (const Connection& c : connections) {
        fds.push_back({c.fd.get(), POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        ScopedFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (fd.valid()) connections.push_back({std::move(fd), ""});
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Connection& c = connections[i - 1];
        char buf[4096];
        const ssize_t n = read(c.fd.get(), buf, sizeof(buf));
        if (n <= 0) {
          c.fd.Reset();  // PowerDNS closed it (or gave up on it).
          continue;
        }
        c.buffer.append(buf, n);
        for (size_t eol; (eol = c.buffer.find('\n')) != std::string::npos;) {
          const std::string line = c.buffer.substr(0, eol);
          c.buffer.erase(0, eol + 1);
          if (std::optional<std::string> reply = Answer(line)) {
            const std::string out = *reply + "\n";
            // Small replies to a local socket: one write suffices.
            if (write(c.fd.get(), out.data(), out.size()) !=
                static_cast<ssize_t>(out.size())) {
              c.fd.Reset();
              break;
            }
          }
        }
      }
      connections.erase(
          std::remove_if(connections.begin(), connections.end(),
                         [](const Connection& c) { return !c.fd.valid(); }),
          connections.end());
    }
  }

  // The reply line to one request line; nullopt: no reply.
  std::optional<std::string> Answer(const std::string& line) {
    google::protobuf::Struct request;
    if (!google::protobuf::util::JsonStringToMessage(line, &request).ok()) {
      return R"({"result":false})";
    }
    const auto& fields = request.fields();
    const std::string method =
        fields.count("method") ? fields.at("method").string_value() : "";
    if (method == "initialize") return R"({"result":true})";
    if (method != "lookup" || !fields.count("parameters")) {
      return R"({"result":false})";
    }
    const auto& params = fields.at("parameters").struct_value().fields();
    const std::string qname = absl::AsciiStrToLower(
        params.count("qname") ? params.at("qname").string_value() : "");
    const std::string qtype =
        params.count("qtype") ? params.at("qtype").string_value() : "";
    std::lock_guard<std::mutex> lock(mu_);
    ++lookups_[qname];
    auto it = names_.find(qname);
    if (it == names_.end()) return R"({"result":false})";
    const FakeName& name = it->second;
    // SOA lookups find the zone; the special behaviours are for the
    // answer's lookups.
    if (qtype != "SOA") {
      if (name.silent) return std::nullopt;
      if (name.reply_line) return *name.reply_line;
    }
    std::vector<std::string> records;
    for (const FakeRecord& r : name.records) {
      if (qtype != "ANY" && qtype != r.qtype) continue;
      records.push_back(absl::StrCat(R"({"qtype":")", r.qtype, R"(","qname":")",
                                     qname, R"(","content":")", r.content,
                                     R"(","ttl":)", r.ttl, "}"));
    }
    if (records.empty()) return R"({"result":false})";
    return absl::StrCat(R"({"result":[)", absl::StrJoin(records, ","), "]}");
  }

  const std::string path_;
  ScopedFd listener_;
  std::mutex mu_;
  std::map<std::string, FakeName> names_;
  std::map<std::string, int> lookups_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

const std::vector<std::string> kSrvContents = {
    "20 5 5060 b.fleet.test.", "10 5 5060 z.fleet.test.",
    "10 5 5060 a.fleet.test.", "30 1 5061 m.fleet.test."};

FakeName SrvSet() {
  FakeName n;
  for (const std::string& c : kSrvContents) n.records.push_back({"SRV", c});
  return n;
}

FakeName Addresses(const std::vector<std::string>& ips, uint32_t ttl = 30) {
  FakeName n;
  for (const std::string& ip : ips) n.records.push_back({"A", ip, ttl});
  return n;
}

class PowerDnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("pdns-backend");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    backend_ = std::make_unique<FakeRemoteBackend>(dir_.File("backend.sock"));
    backend_->Set("_sip._udp.fleet.test.", SrvSet());
    backend_->Set("a.fleet.test.",
                  Addresses({"192.0.2.9", "192.0.2.1", "192.0.2.5"}));
  }

  // PowerDNS against the fake backend (unless `options` name another
  // socket).
  std::unique_ptr<PowerDnsServer> StartPdns(PowerDnsOptions options = {}) {
    if (options.backend_socket.empty()) {
      options.backend_socket = dir_.File("backend.sock");
    }
    absl::StatusOr<std::unique_ptr<PowerDnsServer>> pdns =
        PowerDnsServer::Start(options);
    EXPECT_TRUE(pdns.ok()) << pdns.status();
    return pdns.ok() ? *std::move(pdns) : nullptr;
  }

  static DigAnswer MustDig(const PowerDnsServer& pdns, absl::string_view name,
                           absl::string_view type) {
    absl::StatusOr<DigAnswer> a = Dig(pdns.port(), name, type);
    EXPECT_TRUE(a.ok()) << a.status() << "\n" << pdns.ReadLog();
    return a.ok() ? *std::move(a) : DigAnswer{};
  }

  TempDir dir_;
  std::unique_ptr<FakeRemoteBackend> backend_;
};

TEST_F(PowerDnsServerTest, AnswersWhatTheBackendGaveShuffled) {
  std::unique_ptr<PowerDnsServer> pdns = StartPdns();
  ASSERT_NE(pdns, nullptr);

  DigAnswer srv = MustDig(*pdns, "_sip._udp.fleet.test", "SRV");
  EXPECT_EQ(srv.rcode, "NOERROR");
  EXPECT_TRUE(srv.authoritative);
  EXPECT_THAT(srv.AnswerData("SRV"),
              UnorderedElementsAre(kSrvContents[0], kSrvContents[1],
                                   kSrvContents[2], kSrvContents[3]));
  for (const DigRecord& r : srv.answer) EXPECT_EQ(r.ttl, 30u);
  // In-zone targets' addresses come along in the additional section.
  EXPECT_THAT(
      srv.additional,
      UnorderedElementsAre(DigRecord{"a.fleet.test.", 30, "A", "192.0.2.9"},
                           DigRecord{"a.fleet.test.", 30, "A", "192.0.2.1"},
                           DigRecord{"a.fleet.test.", 30, "A", "192.0.2.5"}));

  // Each fresh answer has its own order (Purge: no packet-cache hit).
  std::set<std::vector<std::string>> orders;
  for (int i = 0; i < 12 && orders.size() < 2; ++i) {
    ASSERT_TRUE(pdns->Purge("_sip._udp.fleet.test").ok());
    orders.insert(
        MustDig(*pdns, "_sip._udp.fleet.test", "SRV").AnswerData("SRV"));
  }
  EXPECT_GE(orders.size(), 2u) << "PowerDNS kept the RRset's order";
}

TEST_F(PowerDnsServerTest, NoShuffleKeepsTheBackendsOrder) {
  PowerDnsOptions options;
  options.shuffle = false;
  std::unique_ptr<PowerDnsServer> pdns = StartPdns(options);
  ASSERT_NE(pdns, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pdns->Purge("_sip._udp.fleet.test").ok());
    EXPECT_EQ(MustDig(*pdns, "_sip._udp.fleet.test", "SRV").AnswerData("SRV"),
              kSrvContents);
    ASSERT_TRUE(pdns->Purge("a.fleet.test").ok());
    EXPECT_THAT(MustDig(*pdns, "a.fleet.test", "A").AnswerData("A"),
                ElementsAre("192.0.2.9", "192.0.2.1", "192.0.2.5"));
  }
}

TEST_F(PowerDnsServerTest, EntIsNodataUnknownIsNxdomainOutsideIsRefused) {
  // An empty non-terminal, as the DNS face reports a service's parent.
  backend_->Set("pbx.fleet.test.", Records({{"ENT", "", 0}}));
  std::unique_ptr<PowerDnsServer> pdns = StartPdns();
  ASSERT_NE(pdns, nullptr);

  DigAnswer ent = MustDig(*pdns, "pbx.fleet.test", "A");
  EXPECT_EQ(ent.rcode, "NOERROR");
  EXPECT_TRUE(ent.authoritative);
  EXPECT_THAT(ent.answer, IsEmpty());
  EXPECT_EQ(ent.NegativeTtl(), 5u);

  DigAnswer unknown = MustDig(*pdns, "nope.fleet.test", "A");
  EXPECT_EQ(unknown.rcode, "NXDOMAIN");
  EXPECT_TRUE(unknown.authoritative);
  ASSERT_TRUE(unknown.Soa().has_value());
  EXPECT_EQ(unknown.Soa()->data, kSoa);
  EXPECT_EQ(unknown.NegativeTtl(), 5u);

  // A name with records but none of the type asked: NODATA too.
  EXPECT_EQ(MustDig(*pdns, "a.fleet.test", "AAAA").rcode, "NOERROR");

  EXPECT_EQ(MustDig(*pdns, "elsewhere.example", "A").rcode, "REFUSED");
}

TEST_F(PowerDnsServerTest, ErrorReplyAndSilentBackendAreServfail) {
  FakeName error;
  error.reply_line = R"({"error":"x"})";
  backend_->Set("err.fleet.test.", error);
  FakeName silent;
  silent.silent = true;
  backend_->Set("slow.fleet.test.", silent);
  PowerDnsOptions options;
  options.backend_timeout = absl::Milliseconds(500);  // Keeps the test short.
  std::unique_ptr<PowerDnsServer> pdns = StartPdns(options);
  ASSERT_NE(pdns, nullptr);

  EXPECT_EQ(MustDig(*pdns, "err.fleet.test", "A").rcode, "SERVFAIL");
  EXPECT_EQ(MustDig(*pdns, "a.fleet.test", "A").rcode, "NOERROR");

  const absl::Time start = absl::Now();
  EXPECT_EQ(MustDig(*pdns, "slow.fleet.test", "A").rcode, "SERVFAIL");
  // Not before the backend timeout (500 ms) has passed.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(450));
  // And PowerDNS serves on.
  EXPECT_THAT(MustDig(*pdns, "a.fleet.test", "A").AnswerData("A"),
              UnorderedElementsAre("192.0.2.9", "192.0.2.1", "192.0.2.5"));
}

TEST_F(PowerDnsServerTest, BackendDownIsServfail) {
  PowerDnsOptions options;
  options.backend_socket = dir_.File("nobody.sock");
  std::unique_ptr<PowerDnsServer> pdns = StartPdns(options);
  ASSERT_NE(pdns, nullptr);
  EXPECT_EQ(MustDig(*pdns, "a.fleet.test", "A").rcode, "SERVFAIL");
}

std::vector<std::string> DigAddresses(const PowerDnsServer& pdns) {
  absl::StatusOr<DigAnswer> a = Dig(pdns.port(), "a.fleet.test", "A");
  return a.ok() ? a->AnswerData("A") : std::vector<std::string>{};
}

TEST_F(PowerDnsServerTest, DefaultCachesShowAChangeWithinSeconds) {
  std::unique_ptr<PowerDnsServer> pdns = StartPdns();
  ASSERT_NE(pdns, nullptr);
  ASSERT_EQ(DigAddresses(*pdns).size(), 3u);

  // cache-ttl=1: the packet cache holds the old answer about a second.
  backend_->Set("a.fleet.test.", Addresses({"192.0.2.77"}));
  const absl::Time changed = absl::Now();
  std::string last;
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<DigAnswer> a = Dig(pdns->port(), "a.fleet.test", "A");
    last = a.ok() ? absl::StrCat(a->rcode, " ",
                                 absl::StrJoin(a->AnswerData("A"), " "))
                  : a.status().ToString();
    return a.ok() &&
           a->AnswerData("A") == std::vector<std::string>{"192.0.2.77"};
  })) << "last answer: "
      << last << "\n"
      << pdns->ReadLog();
  // Not asserted (loaded CI machines); for the log.
  std::cout << "change visible after " << (absl::Now() - changed) << "\n";
}

TEST_F(PowerDnsServerTest, PurgeShowsAChangeAtOnce) {
  PowerDnsOptions options;
  options.cache_ttl = 600;  // Nothing expires during the test.
  std::unique_ptr<PowerDnsServer> pdns = StartPdns(options);
  ASSERT_NE(pdns, nullptr);
  ASSERT_EQ(DigAddresses(*pdns).size(), 3u);

  backend_->Set("a.fleet.test.", Addresses({"192.0.2.78"}));
  EXPECT_EQ(DigAddresses(*pdns).size(), 3u);  // From the packet cache.
  ASSERT_TRUE(pdns->Purge("a.fleet.test.").ok());
  EXPECT_THAT(DigAddresses(*pdns), ElementsAre("192.0.2.78"));
}

TEST_F(PowerDnsServerTest, StartRejectsBadOptions) {
  EXPECT_EQ(PowerDnsServer::Start({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  PowerDnsOptions options;
  options.backend_socket = dir_.File("backend.sock");
  options.extra_lines = {"loglevel=3\nlaunch=bind"};
  EXPECT_EQ(PowerDnsServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sipresolver::testing
