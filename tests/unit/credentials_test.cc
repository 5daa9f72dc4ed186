// The probe credentials file: DOMAIN USERNAME PASSWORD per line, the
// password being the rest of the line, spaces and all.
#include "lib/health/credentials.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sipresolver::health {
namespace {

TEST(CredentialStoreTest, PasswordIsTheRestOfTheLineSpacesIncluded) {
  absl::StatusOr<CredentialStore> store = CredentialStore::Parse(
      "# domain  username  password\n"
      "ITSP.example.com.\tprobe1   correct horse battery  \n"
      "other.example.com probe2 s3cret\n");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(store->Find("itsp.example.com")->username, "probe1");
  EXPECT_EQ(store->Find("itsp.example.com")->password, "correct horse battery");
  EXPECT_EQ(store->Find("other.example.com")->password, "s3cret");
}

TEST(CredentialStoreTest, BadLinesNameTheLineNeverThePassword) {
  for (const char* text :
       {"itsp.example.com probe1\n", "bad..name probe1 hunter2 x\n",
        "a.example.com u hunter2 x\na.example.com v hunter2 y\n"}) {
    absl::StatusOr<CredentialStore> store = CredentialStore::Parse(text);
    ASSERT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_NE(store.status().message().find("line "), std::string::npos);
    EXPECT_EQ(store.status().message().find("hunter2"), std::string::npos);
  }
}

// A file in the test's temporary directory, replaced whole as Kubernetes
// replaces a Secret's files.
class CredentialsFileTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) {
    const std::string next = path_ + ".next";
    std::ofstream(next) << text;
    ASSERT_EQ(std::rename(next.c_str(), path_.c_str()), 0);
  }
  void TearDown() override { unlink(path_.c_str()); }

  // Per test and process: ctest runs the tests of this file in parallel.
  const std::string path_ = absl::StrCat(
      ::testing::TempDir(), "credentials-file-test-",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
      getpid());
};

TEST_F(CredentialsFileTest, ReloadReturnsNewCredentialsOnlyWhenTheyChange) {
  Write("itsp.example.com probe1 old\n");
  absl::StatusOr<CredentialsFile> file = CredentialsFile::Load(path_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->store().Find("itsp.example.com")->password, "old");

  absl::StatusOr<std::optional<CredentialStore>> same = file->Reload();
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->has_value());

  Write("itsp.example.com probe1 rotated\n");
  absl::StatusOr<std::optional<CredentialStore>> changed = file->Reload();
  ASSERT_TRUE(changed.ok() && changed->has_value()) << changed.status();
  EXPECT_EQ((*changed)->Find("itsp.example.com")->password, "rotated");
  EXPECT_EQ(file->store().Find("itsp.example.com")->password, "rotated");
  EXPECT_FALSE(file->Reload()->has_value());
}

TEST_F(CredentialsFileTest, BadOrMissingFileKeepsTheCredentialsInUse) {
  Write("itsp.example.com probe1 good\n");
  absl::StatusOr<CredentialsFile> file = CredentialsFile::Load(path_);
  ASSERT_TRUE(file.ok()) << file.status();

  Write("itsp.example.com probe1\n");  // No password: line 1 is bad.
  absl::StatusOr<std::optional<CredentialStore>> bad = file->Reload();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  EXPECT_EQ(file->store().Find("itsp.example.com")->password, "good");

  unlink(path_.c_str());
  EXPECT_EQ(file->Reload().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file->store().Find("itsp.example.com")->password, "good");

  // The same good content again is no change; an empty file is one.
  Write("itsp.example.com probe1 good\n");
  EXPECT_FALSE(file->Reload()->has_value());
  Write("");
  absl::StatusOr<std::optional<CredentialStore>> empty = file->Reload();
  ASSERT_TRUE(empty.ok() && empty->has_value()) << empty.status();
  EXPECT_EQ((*empty)->size(), 0u);
}

}  // namespace
}  // namespace sipresolver::health
