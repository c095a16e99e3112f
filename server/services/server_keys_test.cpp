// The server's keys: made on first start in the algorithm asked for, kept as they
// are afterwards, and what they sign verifies on a device: with OpenSSL for
// Ed25519, with the device's mbedTLS verifier for ECDSA P-256.
#include "server/services/server_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>

#include "crypto/host/openssl_verifier.h"
#include "crypto/mbedtls/mbedtls_verifier.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::server {
namespace {

namespace fs = std::filesystem;

ErrorCode code_of(const Result<void>& r) { return r.ok() ? ErrorCode::kOk : r.error(); }

class ServerKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("updraft-server-keys-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string keys_dir() const { return (dir_ / "keys").string(); }

  // A check-in answer signed by `keys`, checked against their own root metadata
  // as a device does it.
  static ErrorCode device_accepts(const ServerKeys& keys, SignatureVerifier& verifier) {
    const std::vector<std::byte> bytes =
        manifest::testing::must(keys.sign_manifest(manifest::testing::answer_spec()));
    const manifest::Manifest signed_manifest =
        manifest::testing::must(manifest::parse_manifest(bytes));
    const manifest::RootMetadata root =
        manifest::testing::must(manifest::parse_root(keys.root_metadata()));
    return code_of(manifest::check_release_signatures(signed_manifest, root, verifier));
  }

  static void expect_keys_of(const ServerKeys& keys, SignatureAlgorithm algorithm) {
    EXPECT_EQ(keys.algorithm(), algorithm);
    const manifest::RootMetadata root =
        manifest::testing::must(manifest::parse_root(keys.root_metadata()));
    ASSERT_EQ(root.root_keys.count, 1u);
    ASSERT_EQ(root.release_keys.count, 1u);
    EXPECT_EQ(root.root_keys.keys[0].algorithm, algorithm);
    EXPECT_EQ(root.release_keys.keys[0].algorithm, algorithm);
    ASSERT_EQ(root.signatures.count, 1u);
    EXPECT_EQ(root.signatures.entries[0].algorithm, algorithm);
  }

  fs::path dir_;
};

TEST_F(ServerKeysTest, CreatesEd25519KeysByDefault) {
  const ServerKeys keys = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  expect_keys_of(keys, SignatureAlgorithm::kEd25519);
  OpenSslVerifier verifier;
  EXPECT_EQ(device_accepts(keys, verifier), ErrorCode::kOk);
  for (const char* file : {"root.key", "root.pub", "release.key", "release.pub", "root.bin"}) {
    EXPECT_TRUE(fs::exists(dir_ / "keys" / file)) << file;
  }
}

TEST_F(ServerKeysTest, CreatesEcdsaP256KeysThatAnMbedTlsDeviceVerifies) {
  const ServerKeys keys = manifest::testing::must(
      ServerKeys::load_or_create(keys_dir(), SignatureAlgorithm::kEcdsaP256Sha256));
  expect_keys_of(keys, SignatureAlgorithm::kEcdsaP256Sha256);
  std::array<std::byte, MbedTlsVerifier::kArenaBytes> arena{};
  MbedTlsVerifier device(arena);
  EXPECT_EQ(device_accepts(keys, device), ErrorCode::kOk);
  OpenSslVerifier host;
  EXPECT_EQ(device_accepts(keys, host), ErrorCode::kOk);
}

TEST_F(ServerKeysTest, KeepsExistingKeysWhateverAlgorithmIsAsked) {
  // Devices trust the keys made at first start; a later flag must not replace them.
  const ServerKeys first = manifest::testing::must(
      ServerKeys::load_or_create(keys_dir(), SignatureAlgorithm::kEcdsaP256Sha256));
  const ServerKeys again =
      manifest::testing::must(ServerKeys::load_or_create(keys_dir(), SignatureAlgorithm::kEd25519));
  EXPECT_EQ(again.algorithm(), SignatureAlgorithm::kEcdsaP256Sha256);
  EXPECT_EQ(again.root_metadata(), first.root_metadata());
  const ServerKeys by_default = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  EXPECT_EQ(by_default.root_metadata(), first.root_metadata());
}

}  // namespace
}  // namespace updraft::server
