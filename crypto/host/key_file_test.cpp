#include "crypto/host/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace updraft {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("updraft_key_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(KeyFileTest, PrivateKeyIsReadableByOwnerOnly) {
  const SigningKey key = SigningKey::generate(SignatureAlgorithm::kEd25519).value();
  ASSERT_TRUE(write_key_pair(key, path("release")).ok());
  struct stat st;
  ASSERT_EQ(::stat(path("release.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path("release.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077 & ~0044, 0u);  // others may read the public key, never write it
  EXPECT_FALSE(std::filesystem::exists(path("release.key.tmp")));
}

TEST_F(KeyFileTest, LoadsBackTheSameKeys) {
  for (const SignatureAlgorithm algorithm :
       {SignatureAlgorithm::kEd25519, SignatureAlgorithm::kEcdsaP256Sha256}) {
    const SigningKey key = SigningKey::generate(algorithm).value();
    const std::string name = path(std::string(algorithm_name(algorithm)));
    ASSERT_TRUE(write_key_pair(key, name).ok());
    EXPECT_EQ(load_signing_key(name + ".key").value().public_key(), key.public_key());
    EXPECT_EQ(load_public_key(name + ".pub").value(), key.public_key());
    EXPECT_EQ(load_public_key(name + ".key").value(), key.public_key());
  }
}

TEST_F(KeyFileTest, NeverReplacesAnExistingKey) {
  const SigningKey first = SigningKey::generate(SignatureAlgorithm::kEd25519).value();
  const SigningKey second = SigningKey::generate(SignatureAlgorithm::kEd25519).value();
  ASSERT_TRUE(write_key_pair(first, path("root")).ok());
  const Result<void, Error> again = write_key_pair(second, path("root"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kIoError);
  EXPECT_EQ(load_signing_key(path("root.key")).value().public_key(), first.public_key());
}

TEST_F(KeyFileTest, MissingOrForeignFilesFailWithTheirPath) {
  const HostResult<SigningKey> missing = load_signing_key(path("absent.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIoError);
  std::FILE* f = std::fopen(path("junk.pub").c_str(), "w");
  std::fputs("hello\n", f);
  std::fclose(f);
  const HostResult<PublicKey> junk = load_public_key(path("junk.pub"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("junk.pub"), std::string::npos);
}

}  // namespace
}  // namespace updraft
