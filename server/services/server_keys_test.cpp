// The server's keys: made on first start in the algorithm asked for, kept as they
// are afterwards, and what they sign verifies on a device: with OpenSSL for
// Ed25519, with the device's mbedTLS verifier for ECDSA P-256.
#include "server/services/server_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/host/file.h"
#include "crypto/host/key_file.h"
#include "crypto/host/openssl_verifier.h"
#include "crypto/mbedtls/mbedtls_rsa_verifier.h"
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

// Servers starting together on one new shared data directory (a cluster's first
// start): one makes the keys, every one of them loads the same.
TEST_F(ServerKeysTest, ServersStartingTogetherOnANewDirectoryShareOneSetOfKeys) {
  std::vector<std::thread> starts;
  std::vector<std::string> roots(6);
  std::vector<std::string> errors(6);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    starts.emplace_back([&, i] {
      HostResult<ServerKeys> keys = ServerKeys::load_or_create(keys_dir());
      if (!keys.ok()) {
        errors[i] = keys.error().to_string();
        return;
      }
      const std::vector<std::byte>& root = keys->root_metadata();
      roots[i].assign(reinterpret_cast<const char*>(root.data()), root.size());
    });
  }
  for (std::thread& t : starts) t.join();
  for (std::size_t i = 0; i < roots.size(); ++i) {
    EXPECT_EQ(errors[i], "") << i;
    EXPECT_EQ(roots[i], roots[0]) << i;
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

TEST_F(ServerKeysTest, CreatesRsaPssKeysThatAnMbedTlsRsaDeviceVerifies) {
  const ServerKeys keys = manifest::testing::must(
      ServerKeys::load_or_create(keys_dir(), SignatureAlgorithm::kRsa2048PssSha256));
  expect_keys_of(keys, SignatureAlgorithm::kRsa2048PssSha256);
  std::vector<std::byte> arena(MbedTlsRsaVerifier::kArenaBytes);
  MbedTlsRsaVerifier device(arena);
  EXPECT_EQ(device_accepts(keys, device), ErrorCode::kOk);
  OpenSslVerifier host;
  EXPECT_EQ(device_accepts(keys, host), ErrorCode::kOk);
}

TEST_F(ServerKeysTest, TheDefaultModeHoldsTheRootKeyAndSaysSo) {
  const ServerKeys keys = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  EXPECT_EQ(keys.root_mode(), ServerKeys::RootMode::kOnline);
  EXPECT_NE(keys.describe().find("online root"), std::string::npos) << keys.describe();
  EXPECT_EQ(keys.root_version(), 1u);
  EXPECT_EQ(keys.next_root(1), nullptr);
}

// --- Offline root: root metadata made with the root keys elsewhere, imported.

class OfflineRootTest : public ServerKeysTest {
 protected:
  void SetUp() override {
    ServerKeysTest::SetUp();
    fs::create_directories(keys_dir());
    // The release key is made on the server; its public half goes to the offline machine.
    ASSERT_TRUE(write_key_pair(manifest::testing::keys().release_a, keys_dir() + "/release").ok());
  }

  // Root v`version`: root key `root` (threshold 1), the server's release key.
  static manifest::RootSpec spec(std::uint32_t version, const SigningKey& root) {
    manifest::RootSpec s;
    s.version = version;
    s.root_keys = {root.public_key()};
    s.release_keys = {manifest::testing::keys().release_a.public_key()};
    return s;
  }

  std::string file(const std::string& name, const std::vector<std::byte>& bytes) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(write_file_atomic(path, bytes).ok());
    return path;
  }

  HostResult<ServerKeys> start(std::vector<std::string> roots) {
    ServerKeys::Options options;
    options.import_roots = std::move(roots);
    return ServerKeys::load_or_create(keys_dir(), options);
  }

  const SigningKey& r1 = manifest::testing::keys().root_a;
  const SigningKey& r2 = manifest::testing::keys().root_b;
  std::vector<std::byte> v1 = manifest::testing::sign_root(spec(1, r1), {&r1});
  std::vector<std::byte> v2 = manifest::testing::sign_root(spec(2, r2), {&r1, &r2});
};

std::string message_of(const HostResult<ServerKeys>& r) {
  return r.ok() ? "ok" : r.error().to_string();
}

TEST_F(OfflineRootTest, ImportsARootMadeElsewhereAndHoldsNoRootKey) {
  const ServerKeys keys = manifest::testing::must(start({file("v1.bin", v1)}));
  EXPECT_EQ(keys.root_mode(), ServerKeys::RootMode::kOffline);
  EXPECT_NE(keys.describe().find("offline root"), std::string::npos) << keys.describe();
  EXPECT_EQ(keys.root_metadata(), v1);
  EXPECT_FALSE(fs::exists(dir_ / "keys" / "root.key"));
  OpenSslVerifier verifier;
  EXPECT_EQ(device_accepts(keys, verifier), ErrorCode::kOk);
  // A restart without --root keeps the imported root, still offline.
  const ServerKeys again = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  EXPECT_EQ(again.root_mode(), ServerKeys::RootMode::kOffline);
  EXPECT_EQ(again.root_metadata(), v1);
}

TEST_F(OfflineRootTest, KeepsEveryVersionAndServesTheNextToOlderDevices) {
  ASSERT_TRUE(start({file("v1.bin", v1)}).ok());
  // The same flags again, plus the rotation: v1 is already there, v2 is added.
  const ServerKeys keys = manifest::testing::must(start({file("v1.bin", v1), file("v2.bin", v2)}));
  EXPECT_EQ(keys.root_version(), 2u);
  EXPECT_EQ(keys.root_metadata(), v2);
  ASSERT_NE(keys.next_root(1), nullptr);
  EXPECT_EQ(*keys.next_root(1), v2);
  EXPECT_EQ(keys.next_root(2), nullptr);
  EXPECT_EQ(keys.next_root(0), nullptr);
  EXPECT_EQ(keys.next_root(7), nullptr);
  const ServerKeys again = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  ASSERT_NE(again.next_root(1), nullptr);
  EXPECT_EQ(*again.next_root(1), v2);
}

TEST_F(OfflineRootTest, RefusesRotationsADeviceWouldRefuseAndKeepsWhatItHad) {
  ASSERT_TRUE(start({file("v1.bin", v1)}).ok());
  const std::vector<std::byte> only_new_keys = manifest::testing::sign_root(spec(2, r2), {&r2});
  const HostResult<ServerKeys> unapproved = start({file("bad.bin", only_new_keys)});
  ASSERT_FALSE(unapproved.ok());
  EXPECT_NE(message_of(unapproved).find("ROOT_ROTATION_INVALID (218)"), std::string::npos)
      << message_of(unapproved);
  const HostResult<ServerKeys> skipped =
      start({file("v3.bin", manifest::testing::sign_root(spec(3, r2), {&r1, &r2}))});
  EXPECT_NE(message_of(skipped).find("import v2 next"), std::string::npos) << message_of(skipped);
  const HostResult<ServerKeys> changed =
      start({file("v1b.bin", manifest::testing::sign_root(spec(1, r2), {&r2}))});
  EXPECT_NE(message_of(changed).find("differs"), std::string::npos) << message_of(changed);
  const ServerKeys kept = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  EXPECT_EQ(kept.root_metadata(), v1);
}

TEST_F(OfflineRootTest, RefusesWhileTheRootKeyIsOnTheServerOrWithoutAReleaseKey) {
  ASSERT_TRUE(write_key_pair(r1, keys_dir() + "/root").ok());
  EXPECT_NE(message_of(start({file("v1.bin", v1)})).find("root.key is on this server"),
            std::string::npos);
  fs::remove(dir_ / "keys" / "root.key");
  fs::remove(dir_ / "keys" / "release.key");
  EXPECT_NE(message_of(start({file("v1.bin", v1)})).find("no release key"), std::string::npos);
}

TEST_F(OfflineRootTest, RefusesARootThatDoesNotListTheReleaseKey) {
  manifest::RootSpec other = spec(1, r1);
  other.release_keys = {manifest::testing::keys().release_c.public_key()};
  const HostResult<ServerKeys> r =
      start({file("v1.bin", manifest::testing::sign_root(other, {&r1}))});
  EXPECT_NE(message_of(r).find("does not list the release key"), std::string::npos)
      << message_of(r);
  // Nor one that revokes it: a rotation that retires the server's key needs the new
  // release key in place first.
  ASSERT_TRUE(start({file("v1.bin", v1)}).ok());
  manifest::RootSpec revoking = spec(2, r2);
  revoking.release_keys = {manifest::testing::keys().release_c.public_key()};
  revoking.revoked = {manifest::key_id_of(manifest::testing::keys().release_a.public_key())};
  EXPECT_FALSE(start({file("v2.bin", manifest::testing::sign_root(revoking, {&r1, &r2}))}).ok());
}

TEST_F(OfflineRootTest, AServerStartedInTheDefaultModeMovesToAnOfflineRoot) {
  fs::remove_all(dir_ / "keys");
  const ServerKeys online = manifest::testing::must(ServerKeys::load_or_create(keys_dir()));
  // Offline: new root keys; v2 is signed by the server's root key (v1's threshold)
  // and the new key, then the server's root key leaves the machine.
  const SigningKey old_root = manifest::testing::must(load_signing_key(keys_dir() + "/root.key"));
  const SigningKey release = manifest::testing::must(load_signing_key(keys_dir() + "/release.key"));
  manifest::RootSpec v2_spec = spec(2, r2);
  v2_spec.release_keys = {release.public_key()};
  const std::vector<std::byte> rotated = manifest::testing::sign_root(v2_spec, {&old_root, &r2});
  fs::remove(dir_ / "keys" / "root.key");
  const ServerKeys offline = manifest::testing::must(start({file("v2.bin", rotated)}));
  EXPECT_EQ(offline.root_mode(), ServerKeys::RootMode::kOffline);
  ASSERT_NE(offline.next_root(1), nullptr);
  EXPECT_EQ(*offline.next_root(1), rotated);
  EXPECT_EQ(offline.algorithm(), online.algorithm());
}

}  // namespace
}  // namespace updraft::server
