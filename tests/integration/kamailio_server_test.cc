// Checks KamailioServer against hand-written SIP over UDP and TCP, and pins
// down how Kamailio 5.6 answers the requests the prober sends (challenge,
// digest, Via received/rport, 503, 403, silence, a banned User-Agent,
// SIGSTOP).
#include "tests/support/kamailio_server.h"

#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback.h"

namespace sipresolver::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A SIP client on one socket of 127.0.0.1: UDP, or TCP connected to
// `server_port`. Blocking calls, bounded by poll timeouts.
class SipClient {
 public:
  explicit SipClient(uint16_t server_port, bool tcp = false)
      : server_port_(server_port), tcp_(tcp) {
    fd_ = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    port_ = BindLoopback(fd_, 0);
    if (tcp) {
      LoopbackAddress s(server_port);
      connect(fd_, s.get(), s.size);
    }
  }
  ~SipClient() { close(fd_); }
  uint16_t port() const { return port_; }

  void Send(const std::string& msg) {
    LoopbackAddress s(server_port_);
    sendto(fd_, msg.data(), msg.size(), 0, tcp_ ? nullptr : s.get(),
           tcp_ ? 0 : s.size);
  }
  // One message (UDP datagram; for TCP, whatever the first read brings: our
  // replies have no body).
  std::optional<std::string> Receive(absl::Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0)
      return std::nullopt;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, n);
  }
  std::optional<std::string> Exchange(
      const std::string& msg, absl::Duration timeout = absl::Seconds(30)) {
    Send(msg);
    return Receive(timeout);
  }

 private:
  uint16_t server_port_;
  bool tcp_;
  int fd_;
  uint16_t port_ = 0;
};

struct Request {
  std::string method = "OPTIONS";
  std::string user = "alice";
  std::string domain = "sipresolver.test";
  std::string via_sent_by;  // Default "127.0.0.1:CLIENT_PORT".
  bool rport = true;
  std::string transport = "UDP";
  std::string call_id = "call-1@sipresolver";
  int cseq = 1;
  int expires = 60;
  std::string authorization;  // Header value, if any.
  std::string user_agent;     // Header value, if any.
};

Request Method(const std::string& method) {
  Request r;
  r.method = method;
  return r;
}

KamailioConfig WithMode(KamailioConfig::Mode mode) {
  KamailioConfig c;
  c.mode = mode;
  return c;
}

std::string Build(const Request& r, uint16_t client_port) {
  static int branch = 0;
  std::string sent_by = r.via_sent_by.empty()
                            ? absl::StrCat("127.0.0.1:", client_port)
                            : r.via_sent_by;
  std::string msg = absl::StrCat(
      r.method, " sip:", r.domain, " SIP/2.0\r\n", "Via: SIP/2.0/", r.transport,
      " ", sent_by, ";branch=z9hG4bK-test-", ++branch, r.rport ? ";rport" : "",
      "\r\nMax-Forwards: 70\r\n", "From: <sip:", r.user, "@", r.domain,
      ">;tag=t", branch, "\r\nTo: <sip:", r.user, "@", r.domain, ">\r\n",
      "Call-ID: ", r.call_id, "\r\nCSeq: ", r.cseq, " ", r.method, "\r\n");
  if (r.method == "REGISTER") {
    absl::StrAppend(&msg, "Contact: <sip:", r.user, "@127.0.0.1:", client_port,
                    ">\r\nExpires: ", r.expires, "\r\n");
  }
  if (!r.authorization.empty()) {
    absl::StrAppend(&msg, "Authorization: ", r.authorization, "\r\n");
  }
  if (!r.user_agent.empty()) {
    absl::StrAppend(&msg, "User-Agent: ", r.user_agent, "\r\n");
  }
  return msg + "Content-Length: 0\r\n\r\n";
}

int StatusCode(const std::string& response) {
  int code = 0;
  std::vector<std::string> parts = absl::StrSplit(response, ' ');
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &code)) return 0;
  return code;
}

// The value of the first header `name` ("" if none).
std::string Header(const std::string& response, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(response, "\r\n")) {
    size_t colon = line.find(':');
    if (colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(
            absl::StripAsciiWhitespace(line.substr(0, colon)), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

// `name="value"` or `name=value` inside a header value.
std::string Param(const std::string& value, absl::string_view name) {
  for (absl::string_view p : absl::StrSplit(value, absl::ByAnyChar(",;"))) {
    p = absl::StripAsciiWhitespace(p);
    if (absl::ConsumePrefix(&p, "Digest ")) p = absl::StripAsciiWhitespace(p);
    if (absl::ConsumePrefix(&p, name) && absl::ConsumePrefix(&p, "=")) {
      absl::ConsumePrefix(&p, "\"");
      absl::ConsumeSuffix(&p, "\"");
      return std::string(p);
    }
  }
  return "";
}

std::string Md5Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i)
    absl::StrAppend(&hex, absl::Hex(md[i], absl::kZeroPad2));
  return hex;
}

// RFC 2617 Authorization for `challenge` (a WWW-Authenticate value), with
// qop=auth when offered.
std::string Authorization(const std::string& challenge, const Request& r,
                          const std::string& password) {
  const std::string realm = Param(challenge, "realm");
  const std::string nonce = Param(challenge, "nonce");
  const std::string uri = absl::StrCat("sip:", r.domain);
  const std::string ha1 =
      Md5Hex(absl::StrCat(r.user, ":", realm, ":", password));
  const std::string ha2 = Md5Hex(absl::StrCat(r.method, ":", uri));
  std::string auth = absl::StrCat("Digest username=\"", r.user, "\", realm=\"",
                                  realm, "\", nonce=\"", nonce, "\", uri=\"",
                                  uri, "\", algorithm=MD5");
  if (Param(challenge, "qop") == "auth") {
    const std::string nc = "00000001", cnonce = "0a4f113b";
    return absl::StrCat(auth, ", qop=auth, nc=", nc, ", cnonce=\"", cnonce,
                        "\", response=\"",
                        Md5Hex(absl::StrCat(ha1, ":", nonce, ":", nc, ":",
                                            cnonce, ":auth:", ha2)),
                        "\"");
  }
  return absl::StrCat(auth, ", response=\"",
                      Md5Hex(absl::StrCat(ha1, ":", nonce, ":", ha2)), "\"");
}

// REGISTER, then (on 401) REGISTER again with credentials for `password`.
// Returns the last response ("" on timeout).
std::string RegisterWithPassword(SipClient& client, const std::string& password,
                                 std::string* challenge = nullptr) {
  Request r = Method("REGISTER");
  std::string first = client.Exchange(Build(r, client.port())).value_or("");
  if (StatusCode(first) != 401) return first;
  if (challenge) *challenge = Header(first, "WWW-Authenticate");
  r.cseq = 2;
  r.authorization =
      Authorization(Header(first, "WWW-Authenticate"), r, password);
  return client.Exchange(Build(r, client.port())).value_or("");
}

std::unique_ptr<KamailioServer> StartOrDie(const KamailioConfig& config = {}) {
  auto server = KamailioServer::Start(config);
  if (!server.ok()) ADD_FAILURE() << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

bool ProcessGone(pid_t pid) {  // Absent, or a zombie left to init.
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] == 'Z';
}

TEST(KamailioServerTest, OptionsAnswered200WithReceivedAndRport) {
  absl::Time t0 = absl::Now();
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  std::printf("KamailioServer::Start took %s\n",
              absl::FormatDuration(absl::Now() - t0).c_str());
  EXPECT_EQ(server->address(), absl::StrCat("127.0.0.1:", server->port()));

  SipClient client(server->port());
  std::string reply = client.Exchange(Build({}, client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 200) << reply;
  EXPECT_THAT(
      Header(reply, "Via"),
      HasSubstr(absl::StrCat(";rport=", client.port(), ";received=127.0.0.1")));
  ASSERT_EQ(server->CountRequests("OPTIONS"), 1);  // Readiness probe excluded.
  SipRequestRecord record = server->Requests()[0];
  EXPECT_EQ(record.transport, "udp");
  EXPECT_EQ(record.source, absl::StrCat("127.0.0.1:", client.port()));
  EXPECT_EQ(record.from_user, "alice");
  EXPECT_EQ(record.user_agent, "<null>");
}

TEST(KamailioServerTest, ReceivedWithoutRportGoesToSentByPort) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  Request r;
  r.via_sent_by = absl::StrCat("client.invalid:", client.port());
  r.rport = false;
  std::string reply = client.Exchange(Build(r, client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 200) << reply;
  EXPECT_THAT(Header(reply, "Via"), HasSubstr(";received=127.0.0.1"));
  EXPECT_THAT(Header(reply, "Via"), Not(HasSubstr("rport")));
}

TEST(KamailioServerTest, RegisterWithoutCredentialsIsChallenged) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  std::string reply =
      client.Exchange(Build(Method("REGISTER"), client.port())).value_or("");
  ASSERT_EQ(StatusCode(reply), 401) << reply;
  const std::string challenge = Header(reply, "WWW-Authenticate");
  EXPECT_TRUE(absl::StartsWith(challenge, "Digest ")) << challenge;
  EXPECT_EQ(Param(challenge, "realm"), "sipresolver.test");
  EXPECT_FALSE(Param(challenge, "nonce").empty());
  EXPECT_EQ(Param(challenge, "qop"), "auth");
  EXPECT_EQ(server->CountRequests("REGISTER"), 1);
}

TEST(KamailioServerTest, RegisterWithRightDigestIs200WithContact) {
  KamailioConfig config;
  config.password = "pa55";
  config.realm = "itsp.example";
  auto server = StartOrDie(config);
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  std::string challenge;
  std::string reply = RegisterWithPassword(client, "pa55", &challenge);
  EXPECT_EQ(Param(challenge, "realm"), "itsp.example");
  ASSERT_EQ(StatusCode(reply), 200) << reply;
  EXPECT_EQ(
      Header(reply, "Contact"),
      absl::StrCat("<sip:alice@127.0.0.1:", client.port(), ">;expires=60"));
  EXPECT_EQ(server->CountRequests("REGISTER"), 2);
  // kamcmd sees the binding in the location table.
  absl::StatusOr<std::string> locations = server->Locations();
  ASSERT_TRUE(locations.ok()) << locations.status();
  EXPECT_NE(
      locations->find(absl::StrCat("sip:alice@127.0.0.1:", client.port())),
      std::string::npos)
      << *locations;
}

// Kamailio's usual script re-challenges: a wrong password is a 401 again
// with a new challenge, never a 403. (The nonce can be the same one: it
// encodes its creation time in seconds.)
TEST(KamailioServerTest, WrongPasswordIs401Again) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  std::string reply = RegisterWithPassword(client, "wrong");
  ASSERT_EQ(StatusCode(reply), 401) << reply;
  EXPECT_FALSE(Param(Header(reply, "WWW-Authenticate"), "nonce").empty());
}

TEST(KamailioServerTest, WrongPasswordIs403WhenRejecting) {
  KamailioConfig config;
  config.wrong_password = KamailioConfig::kReject;
  auto server = StartOrDie(config);
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  std::string reply = RegisterWithPassword(client, "wrong");
  EXPECT_EQ(StatusCode(reply), 403) << reply;
  EXPECT_EQ(StatusCode(RegisterWithPassword(client, "secret")), 200);
}

TEST(KamailioServerTest, NoAuthRegistersAtOnce) {
  auto server = StartOrDie(WithMode(KamailioConfig::kNoAuth));
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  std::string reply =
      client.Exchange(Build(Method("REGISTER"), client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 200) << reply;
}

TEST(KamailioServerTest, ShortExpiresIsRaisedTo60AndZeroUnregisters) {
  auto server = StartOrDie(WithMode(KamailioConfig::kNoAuth));
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  Request r = Method("REGISTER");
  r.expires = 30;
  std::string reply = client.Exchange(Build(r, client.port())).value_or("");
  EXPECT_EQ(
      Header(reply, "Contact"),
      absl::StrCat("<sip:alice@127.0.0.1:", client.port(), ">;expires=60"));
  r.expires = 0;
  r.cseq = 2;
  reply = client.Exchange(Build(r, client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 200) << reply;
  EXPECT_EQ(Header(reply, "Contact"), "") << reply;
}

TEST(KamailioServerTest, ForbiddenRejectsRegisterButAnswersOptions) {
  auto server = StartOrDie(WithMode(KamailioConfig::kForbidden));
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  EXPECT_EQ(StatusCode(client.Exchange(Build(Method("REGISTER"), client.port()))
                           .value_or("")),
            403);
  EXPECT_EQ(StatusCode(client.Exchange(Build({}, client.port())).value_or("")),
            200);
}

TEST(KamailioServerTest, AlwaysUnavailableAnswers503WithRetryAfter) {
  KamailioConfig config = WithMode(KamailioConfig::kAlwaysUnavailable);
  config.retry_after_seconds = 30;
  auto server = StartOrDie(config);
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  for (const char* method : {"OPTIONS", "REGISTER"}) {
    std::string reply =
        client.Exchange(Build(Method(method), client.port())).value_or("");
    EXPECT_EQ(StatusCode(reply), 503) << reply;
    EXPECT_EQ(Header(reply, "Retry-After"), "30") << reply;
  }
}

TEST(KamailioServerTest, SilentReceivesButNeverAnswers) {
  auto server = StartOrDie(WithMode(KamailioConfig::kSilent));
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  EXPECT_EQ(client.Exchange(Build({}, client.port()), absl::Milliseconds(300)),
            std::nullopt);
  EXPECT_TRUE(server->WaitForRequests("OPTIONS", 1));
}

// An ITSP's fail2ban/pike/APIBAN ban of the prober: requests whose
// User-Agent contains the banned text (in any case) are logged but never
// answered, while devices are served. One UDP receiver handles requests in
// order, so the device's 401 arriving shows the banned ones were dropped.
TEST(KamailioServerTest, DropUserAgentSilencesOnlyThatUserAgent) {
  KamailioConfig config;
  config.drop_user_agent = "sipresolver-probe";
  auto server = StartOrDie(config);
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  int call = 0;
  auto send = [&](const std::string& user_agent) {
    Request r = Method("REGISTER");
    r.user_agent = user_agent;
    r.call_id = absl::StrCat("call-", ++call, "@sipresolver");
    client.Send(Build(r, client.port()));
  };
  send("sipresolver-probe/1");
  send("Acme SIPRESOLVER-Probe/2");
  send("Device/1.0");
  std::string reply = client.Receive(absl::Seconds(5)).value_or("");
  EXPECT_EQ(StatusCode(reply), 401) << reply;
  EXPECT_EQ(Header(reply, "Call-ID"), "call-3@sipresolver") << reply;
  send("");  // No User-Agent at all: served too.
  reply = client.Receive(absl::Seconds(5)).value_or("");
  EXPECT_EQ(StatusCode(reply), 401) << reply;
  EXPECT_EQ(Header(reply, "Call-ID"), "call-4@sipresolver") << reply;

  std::vector<SipRequestRecord> requests = server->Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].user_agent, "sipresolver-probe/1");
  EXPECT_EQ(requests[1].user_agent, "Acme SIPRESOLVER-Probe/2");
  EXPECT_EQ(requests[2].user_agent, "Device/1.0");
  EXPECT_EQ(requests[3].user_agent, "<null>");
}

// The text is matched literally, not as a regular expression.
TEST(KamailioServerTest, DropUserAgentMatchesTextLiterally) {
  KamailioConfig config;
  config.drop_user_agent = "probe (v1.0)*";
  auto server = StartOrDie(config);
  ASSERT_NE(server, nullptr);
  SipClient client(server->port());
  Request r = Method("REGISTER");
  r.user_agent = "Acme probe (v1.0)* x";
  client.Send(Build(r, client.port()));
  r.user_agent = "probe v1x0";  // What the unescaped pattern would match.
  r.call_id = "call-2@sipresolver";
  std::string reply = client.Exchange(Build(r, client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 401) << reply;
  EXPECT_EQ(Header(reply, "Call-ID"), "call-2@sipresolver") << reply;
}

TEST(KamailioServerTest, TcpOptionsAnswered) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  SipClient client(server->port(), /*tcp=*/true);
  Request r;
  r.transport = "TCP";
  std::string reply = client.Exchange(Build(r, client.port())).value_or("");
  EXPECT_EQ(StatusCode(reply), 200) << reply;
  ASSERT_EQ(server->Requests().size(), 1u);
  EXPECT_EQ(server->Requests()[0].transport, "tcp");
}

TEST(KamailioServerTest, PauseSilencesEveryProcessUntilResume) {
  auto paused = StartOrDie();
  auto other = StartOrDie();
  ASSERT_NE(paused, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_GE(paused->ProcessIds().size(), 5u);  // Main, receivers, timers.

  paused->Pause();
  SipClient client(paused->port());
  EXPECT_EQ(client.Exchange(Build({}, client.port()), absl::Milliseconds(500)),
            std::nullopt);
  SipClient other_client(other->port());  // Independent instances.
  EXPECT_EQ(
      StatusCode(
          other_client.Exchange(Build({}, other_client.port())).value_or("")),
      200);

  paused->Resume();
  // The request queued while paused is answered late, then new ones again.
  EXPECT_EQ(StatusCode(client.Receive(absl::Seconds(30)).value_or("")), 200);
  Request again;
  again.call_id = "call-2@sipresolver";
  EXPECT_EQ(
      StatusCode(client.Exchange(Build(again, client.port())).value_or("")),
      200);
}

TEST(KamailioServerTest, RestartKeepsPortAndForgetsNonces) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  SipClient client(port);
  std::string challenge;
  ASSERT_EQ(StatusCode(RegisterWithPassword(client, "secret", &challenge)),
            200);

  absl::Time t0 = absl::Now();
  ASSERT_TRUE(
      server->Restart(WithMode(KamailioConfig::kAlwaysUnavailable)).ok());
  std::printf("KamailioServer::Restart took %s\n",
              absl::FormatDuration(absl::Now() - t0).c_str());
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(StatusCode(client.Exchange(Build({}, client.port())).value_or("")),
            503);

  ASSERT_TRUE(server->Restart({}).ok());
  Request r = Method("REGISTER");
  r.cseq = 3;
  r.authorization = Authorization(challenge, r, "secret");  // Old nonce.
  EXPECT_EQ(StatusCode(client.Exchange(Build(r, client.port())).value_or("")),
            401);
  EXPECT_EQ(server->CountRequests("REGISTER"), 3);  // The log carries over.
}

TEST(KamailioServerTest, StopLeavesNoProcess) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  std::vector<pid_t> pids = server->ProcessIds();
  ASSERT_FALSE(pids.empty());
  server->Pause();  // Stop() must also handle a stopped group.
  const std::string dir = server->config_path();
  server.reset();
  for (pid_t pid : pids) EXPECT_TRUE(ProcessGone(pid)) << pid;
  EXPECT_NE(access(dir.c_str(), F_OK), 0);  // Temporary directory removed.
}

// The test process dying (crash, ctest timeout) must not leave kamailio's
// children serving the port: the guardian kills the whole group.
TEST(KamailioServerTest, NoProcessOutlivesACrashedTest) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto server = KamailioServer::Start();
    std::string pids;
    if (server.ok()) {
      const std::string& cfg = (*server)->config_path();
      pids = absl::StrCat((*server)->port(), " ", cfg.substr(0, cfg.rfind('/')),
                          " ", absl::StrJoin((*server)->ProcessIds(), " "));
    }
    (void)!write(fds[1], pids.data(), pids.size());
    raise(SIGKILL);  // No destructor runs.
  }
  close(fds[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;)
    text.append(buf, n);
  close(fds[0]);
  waitpid(child, nullptr, 0);
  std::vector<std::string> fields =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  ASSERT_GE(fields.size(), 4u) << "child failed to start kamailio";
  std::error_code ignored;
  std::filesystem::remove_all(fields[1], ignored);  // The child's temp dir.

  absl::Time deadline = absl::Now() + absl::Seconds(3);
  for (size_t i = 2; i < fields.size(); ++i) {
    pid_t pid = std::stoi(fields[i]);
    while (!ProcessGone(pid) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_TRUE(ProcessGone(pid)) << "kamailio pid " << pid << " outlived";
  }
  // Nothing answers on the port any more.
  SipClient client(static_cast<uint16_t>(std::stoi(fields[0])));
  EXPECT_EQ(client.Exchange(Build({}, client.port()), absl::Milliseconds(200)),
            std::nullopt);
}

TEST(KamailioServerTest, RejectsConfigThatCannotBeQuoted) {
  for (const char* password : {"", "a\"b", "a$b", "a\\b", "a\nb"}) {
    KamailioConfig config;
    config.password = password;
    auto server = KamailioServer::Start(config);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
        << password;
  }
  for (const char* user_agent : {"a\"b", "a$b", "a\\b", "a\nb", "^a", "a]"}) {
    KamailioConfig config;
    config.drop_user_agent = user_agent;
    auto server = KamailioServer::Start(config);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
        << user_agent;
  }
}

}  // namespace
}  // namespace sipresolver::testing
