#include "server/services/server_keys.h"

#include <filesystem>

#include "core/host/file.h"
#include "crypto/host/key_file.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"

namespace updraft::server {
namespace {

namespace fs = std::filesystem;

HostResult<void> create_keys(const std::string& dir, SignatureAlgorithm algorithm) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir + ": " + ec.message());
  // Root and release key alike: a device that can check one can check the other.
  UPDRAFT_TRY_ASSIGN(SigningKey root_key, SigningKey::generate(algorithm));
  UPDRAFT_TRY_ASSIGN(SigningKey release_key, SigningKey::generate(algorithm));
  manifest::RootSpec spec;
  spec.version = 1;
  spec.root_keys = {root_key.public_key()};
  spec.release_keys = {release_key.public_key()};
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> region, manifest::encode_root(spec));
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> root, manifest::sign_metadata(region, {&root_key}));
  UPDRAFT_TRY(write_key_pair(root_key, dir + "/root"));
  UPDRAFT_TRY(write_key_pair(release_key, dir + "/release"));
  return write_file_atomic(dir + "/root.bin", root);
}

}  // namespace

HostResult<ServerKeys> ServerKeys::load_or_create(const std::string& dir,
                                                  SignatureAlgorithm algorithm) {
  const bool has_release = fs::exists(dir + "/release.key");
  const bool has_root = fs::exists(dir + "/root.bin");
  if (!has_release && !has_root) UPDRAFT_TRY(create_keys(dir, algorithm));
  ServerKeys keys;
  UPDRAFT_TRY_ASSIGN(keys.release_key_, load_signing_key(dir + "/release.key"));
  UPDRAFT_TRY_ASSIGN(keys.root_, read_file(dir + "/root.bin"));
  // Refuse to start with a root that would make every device reject our answers.
  UPDRAFT_TRY_ASSIGN(const manifest::RootMetadata root, manifest::parse_root(keys.root_));
  bool listed = false;
  for (std::size_t i = 0; i < root.release_keys.count; ++i) {
    const ByteView key = root.release_keys.keys[i].public_key;
    const std::vector<std::byte>& ours = keys.release_key_.public_key().bytes;
    listed =
        listed || (key.size() == ours.size() && std::equal(key.begin(), key.end(), ours.begin()));
  }
  if (!listed) {
    return Error(ErrorCode::kInvalidArgument,
                 dir + "/root.bin does not list the key in " + dir + "/release.key");
  }
  return keys;
}

HostResult<std::vector<std::byte>> ServerKeys::sign_manifest(
    const manifest::ManifestSpec& spec) const {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> region, manifest::encode_manifest(spec));
  return manifest::sign_metadata(region, {&release_key_});
}

}  // namespace updraft::server
