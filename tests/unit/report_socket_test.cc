// The report socket of `sipresolver watch --report_socket`
// (client/report_socket.h), on a real unix socket in a temporary directory.
#include "client/report_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unix_datagram.h"

namespace sipresolver::client {
namespace {

using ::sipresolver::testing::Eventually;
using ::sipresolver::testing::SendDatagram;
using ::sipresolver::testing::TempDir;

struct Received {
  std::string address;
  uint32_t port;
  uint32_t code;
  bool operator==(const Received& o) const {
    return address == o.address && port == o.port && code == o.code;
  }
};

class ReportSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("report_socket_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    path_ = dir_.File("report");
  }

  absl::StatusOr<std::unique_ptr<ReportSocket>> Open() {
    return ReportSocket::Create(
        {path_,
         [this](const device_report& r) {
           absl::MutexLock lock(&mu_);
           reports_.push_back({r.address, r.port, r.code});
         },
         [this](const std::string& message) {
           absl::MutexLock lock(&mu_);
           logs_.push_back(message);
         }});
  }
  std::vector<Received> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }
  std::vector<std::string> logs() {
    absl::MutexLock lock(&mu_);
    return logs_;
  }

  TempDir dir_;
  std::string path_;
  absl::Mutex mu_;
  std::vector<Received> reports_;
  std::vector<std::string> logs_;
};

TEST_F(ReportSocketTest, EveryGoodLineOfADatagramIsReported) {
  auto socket = Open();
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_TRUE(
      SendDatagram(path_, "192.0.2.11:5060 408\n\n[2001:db8::1]:5080 200\r\n")
          .ok());
  ASSERT_TRUE(SendDatagram(path_, "192.0.2.12:5060 0").ok());
  ASSERT_TRUE(Eventually([&] { return reports().size() == 3; }));
  EXPECT_EQ(reports(), (std::vector<Received>{{"192.0.2.11", 5060, 408},
                                              {"2001:db8::1", 5080, 200},
                                              {"192.0.2.12", 5060, 0}}));
  EXPECT_EQ((*socket)->stats().reports, 3);
  EXPECT_EQ((*socket)->stats().bad_lines, 0);
}

TEST_F(ReportSocketTest, BadLinesAreCountedAndLoggedWithTheReason) {
  auto socket = Open();
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_TRUE(SendDatagram(path_, "garbage\n192.0.2.11:5060 408\n").ok());
  ASSERT_TRUE(SendDatagram(path_, std::string("\x01\xff:99999 1")).ok());
  ASSERT_TRUE(Eventually([&] { return (*socket)->stats().bad_lines == 2; }));
  EXPECT_EQ(reports(), (std::vector<Received>{{"192.0.2.11", 5060, 408}}));
  const std::vector<std::string> log = logs();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0],
            "report socket: bad line \"garbage\": expected ADDRESS:PORT CODE "
            "(1 bad so far)");
  // Whatever arrives is shown escaped, never raw.
  EXPECT_NE(log[1].find("\"\\x01\\xff:99999 1\""), std::string::npos) << log[1];
}

TEST_F(ReportSocketTest, SocketIsGroupWritableAndRemovedAtTheEnd) {
  {
    auto socket = Open();
    ASSERT_TRUE(socket.ok()) << socket.status();
    struct stat st = {};
    ASSERT_EQ(lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
  }
  EXPECT_NE(access(path_.c_str(), F_OK), 0);
}

// Left behind by an agent that was killed: replaced.
TEST_F(ReportSocketTest, StaleSocketFileIsReplaced) {
  const int stale = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path_.data(), path_.size());
  ASSERT_EQ(bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  close(stale);
  auto socket = Open();
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_TRUE(SendDatagram(path_, "192.0.2.11:5060 408").ok());
  EXPECT_TRUE(Eventually([&] { return reports().size() == 1; }));
}

TEST_F(ReportSocketTest, SocketInUseIsRefused) {
  auto first = Open();
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Open();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(SendDatagram(path_, "192.0.2.11:5060 408").ok());
  EXPECT_TRUE(Eventually([&] { return reports().size() == 1; }));
}

TEST_F(ReportSocketTest, FileThatIsNotASocketIsLeftAlone) {
  std::ofstream(path_) << "precious\n";
  auto socket = Open();
  EXPECT_EQ(socket.status().code(), absl::StatusCode::kInvalidArgument);
  std::ifstream in(path_);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
}

TEST_F(ReportSocketTest, PathTooLongIsRefused) {
  path_ = "/tmp/" + std::string(200, 'x');
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sipresolver::client
