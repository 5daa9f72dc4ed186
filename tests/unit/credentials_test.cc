// The probe credentials file: DOMAIN USERNAME PASSWORD per line, the
// password being the rest of the line, spaces and all.
#include "lib/health/credentials.h"

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

}  // namespace
}  // namespace sipresolver::health
