// RemoteBackend (PowerDNS's remote backend protocol) and LineSocket (the
// unix socket it is served on).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/dns_face/line_socket.h"
#include "server/dns_face/remote_backend.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::server::dns_face {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

FaceConfig Config() {
  auto config = ParseFaceConfig(R"({"zones":[{"zone":"fleet.example",
    "names":[{"name":"acme","profile":{"proxyServer":"itsp.example"}}]}]})");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

v1::Decision OneServer() {
  v1::Decision d;
  v1::Candidate& c = *d.add_candidates();
  c.set_address("192.0.2.1");
  c.set_port(5060);
  return d;
}

// The same JSON value (the order of an object's members is free).
::testing::AssertionResult SameJson(const std::string& actual,
                                    const std::string& expected) {
  google::protobuf::Value a, e;
  if (!google::protobuf::util::JsonStringToMessage(actual, &a).ok() ||
      !google::protobuf::util::JsonStringToMessage(expected, &e).ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(a, e)) {
    return ::testing::AssertionFailure() << actual << " is not " << expected;
  }
  return ::testing::AssertionSuccess();
}

class RemoteBackendTest : public ::testing::Test {
 protected:
  std::string Handle(absl::string_view line) { return backend_.Handle(line); }
  FaceRecords records_{Config()};
  std::vector<LookupOutcome> outcomes_;
  RemoteBackend backend_{records_,
                         [this](LookupOutcome o) { outcomes_.push_back(o); }};
};

TEST_F(RemoteBackendTest, InitializeAndZones) {
  EXPECT_TRUE(
      SameJson(Handle(R"({"method":"initialize","parameters":{"path":"/x"}})"),
               R"({"result":true})"));
  EXPECT_TRUE(SameJson(Handle(R"({"method":"getAllDomains","parameters":{}})"),
                       R"({"result":[{"id":1,"kind":"native","serial":1,)"
                       R"("zone":"fleet.example."}]})"));
  EXPECT_TRUE(
      SameJson(Handle(R"({"method":"getDomainInfo","parameters":{"name":)"
                      R"("Fleet.Example"}})"),
               R"({"result":{"id":1,"kind":"native","serial":1,)"
               R"("zone":"fleet.example."}})"));
  EXPECT_TRUE(SameJson(
      Handle(R"({"method":"getDomainInfo","parameters":{"name":"x."}})"),
      R"({"result":false})"));
}

TEST_F(RemoteBackendTest, LookupAnswersRecords) {
  records_.SetDecision(0, 0, OneServer());
  EXPECT_TRUE(SameJson(
      Handle(R"({"method":"lookup","parameters":{"qtype":"ANY",)"
             R"("qname":"_sip._udp.acme.fleet.example.","zone-id":-1}})"),
      R"({"result":[{"content":"10 0 5060 v4-192-0-2-1.acme.fleet.)"
      R"(example.","qname":"_sip._udp.acme.fleet.example.",)"
      R"("qtype":"SRV","ttl":5}]})"));
  EXPECT_TRUE(
      SameJson(Handle(R"({"method":"lookup","parameters":{"qtype":"SOA",)"
                      R"("qname":"acme.fleet.example."}})"),
               R"({"result":false})"));
  EXPECT_TRUE(
      SameJson(Handle(R"({"method":"lookup","parameters":{"qtype":"ANY",)"
                      R"("qname":"nothing.fleet.example."}})"),
               R"({"result":false})"));
  EXPECT_THAT(outcomes_, ::testing::ElementsAre(LookupOutcome::kAnswered,
                                                LookupOutcome::kNoData,
                                                LookupOutcome::kNoSuchName));
}

TEST_F(RemoteBackendTest, NoServersYetIsAnswerWithoutResultForServfail) {
  const std::string reply =
      Handle(R"({"method":"lookup","parameters":{"qtype":"ANY",)"
             R"("qname":"_sip._udp.acme.fleet.example."}})");
  EXPECT_THAT(reply, Not(HasSubstr("result")));
  EXPECT_THAT(reply, HasSubstr("no servers known yet"));
  EXPECT_THAT(outcomes_, ::testing::ElementsAre(LookupOutcome::kUnavailable));
}

TEST_F(RemoteBackendTest, UnsupportedAndHostileLinesGetFalse) {
  for (const char* line :
       {R"({"method":"list","parameters":{"zonename":"fleet.example."}})",
        R"({"method":"getAllDomainMetadata","parameters":{}})",
        R"({"method":"lookup","parameters":{"qtype":"ANY"}})",
        R"({"method":"lookup","parameters":"x"})", R"({"method":5})", "[]",
        "not json", "",
        R"({"method":"lookup","parameters":{"qname":1,)"
        R"("qtype":["A"]}})"}) {
    EXPECT_TRUE(SameJson(Handle(line), R"({"result":false})")) << line;
  }
}

TEST(LineSocket, AnswersEachLineInOrderAndRemovesItsFile) {
  auto dir = sipresolver::testing::TempDir::Create("dns_face");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/face.sock";
  {
    auto server = LineSocket::Start(path, [](absl::string_view line) {
      return absl::StrCat("<", line, ">");
    });
    ASSERT_TRUE(server.ok()) << server.status();
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);

    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.c_str(), path.size());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string request = "a\nbc\r\n\nd";
    ASSERT_EQ(write(fd, request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    ASSERT_EQ(write(fd, "\n", 1), 1);
    std::string reply;
    char buf[64];
    while (reply.size() < 12) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      ASSERT_GT(n, 0);
      reply.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(reply, "<a>\n<bc>\n<d>\n");

    // A line past the limit ends the connection.
    const std::string huge(LineSocket::kMaxLineBytes + 10, 'x');
    (void)!write(fd, huge.data(), huge.size());
    EXPECT_LE(read(fd, buf, sizeof(buf)), 0);
    close(fd);
  }
  struct stat st {};
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

TEST(LineSocket, RefusesToReplaceAFileThatIsNoSocket) {
  auto dir = sipresolver::testing::TempDir::Create("dns_face");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/face.sock";
  FILE* f = fopen(path.c_str(), "w");
  fclose(f);
  auto server = LineSocket::Start(path, [](absl::string_view) { return ""; });
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("is not a socket"));
}

}  // namespace
}  // namespace sipresolver::server::dns_face
