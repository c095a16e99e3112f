#include "manifest/host/root_builder.h"

#include <string>

#include "manifest/host/byte_writer.h"
#include "manifest/host/key_ids.h"

namespace updraft::manifest {
namespace {

Result<void, Error> check_role(const char* role, const std::vector<PublicKey>& keys,
                               std::uint8_t threshold) {
  if (keys.empty() || keys.size() > kMaxKeysPerRole) {
    return Error(ErrorCode::kInvalidArgument, std::string(role) + " keys: 1 to " +
                                                  std::to_string(kMaxKeysPerRole) + " are needed");
  }
  if (threshold < 1 || threshold > keys.size()) {
    return Error(ErrorCode::kInvalidArgument, std::string(role) + " threshold " +
                                                  std::to_string(threshold) +
                                                  " must be between 1 and the number of " + role +
                                                  " keys (" + std::to_string(keys.size()) + ")");
  }
  for (const PublicKey& key : keys) {
    if (key.bytes.size() != public_key_size(key.algorithm)) {
      return Error(ErrorCode::kInvalidArgument,
                   std::string(role) + " key has the wrong size for its algorithm");
    }
  }
  return {};
}

Result<void, Error> check_spec(const RootSpec& spec) {
  UPDRAFT_TRY(check_role("root", spec.root_keys, spec.root_threshold));
  UPDRAFT_TRY(check_role("release", spec.release_keys, spec.release_threshold));
  if (spec.revoked.size() > kMaxRevokedKeys) {
    return Error(ErrorCode::kInvalidArgument,
                 "at most " + std::to_string(kMaxRevokedKeys) + " revoked key ids");
  }
  std::vector<KeyId> ids;
  for (const auto* keys : {&spec.root_keys, &spec.release_keys}) {
    for (const PublicKey& key : *keys) ids.push_back(key_id_of(key.bytes));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (ids[i] == ids[j]) {
        return Error(ErrorCode::kInvalidArgument,
                     "key " + key_id_hex(ids[i]) + " is listed twice (one role each)");
      }
    }
    for (const KeyId& revoked : spec.revoked) {
      if (revoked == ids[i]) {
        return Error(ErrorCode::kInvalidArgument,
                     "key " + key_id_hex(ids[i]) + " is both listed and revoked");
      }
    }
  }
  for (std::size_t i = 0; i < spec.revoked.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.revoked[i] == spec.revoked[j]) {
        return Error(ErrorCode::kInvalidArgument,
                     "key " + key_id_hex(spec.revoked[i]) + " is revoked twice");
      }
    }
  }
  return {};
}

}  // namespace

HostResult<std::vector<std::byte>> encode_root(const RootSpec& spec) {
  UPDRAFT_TRY(check_spec(spec));
  ByteWriter body;
  body.u32(spec.version);
  body.u64(spec.expires);
  body.u8(spec.root_threshold);
  body.u8(spec.release_threshold);
  body.u8(static_cast<std::uint8_t>(spec.root_keys.size()));
  body.u8(static_cast<std::uint8_t>(spec.release_keys.size()));
  body.u8(static_cast<std::uint8_t>(spec.revoked.size()));
  for (const auto* keys : {&spec.root_keys, &spec.release_keys}) {
    for (const PublicKey& key : *keys) {
      body.u8(static_cast<std::uint8_t>(key.algorithm));
      body.bytes(key.bytes);
    }
  }
  for (const KeyId& id : spec.revoked) body.bytes(id);
  std::vector<std::byte> out = envelope_header(kRootMagic, body.size());
  out.insert(out.end(), body.data().begin(), body.data().end());

  // The device's parser has the last word: what it would refuse is never signed.
  std::vector<std::byte> unsigned_root = out;
  unsigned_root.push_back(std::byte{0});
  if (!parse_root(unsigned_root).ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 "root metadata is malformed (a P-256 key not in uncompressed form?)");
  }
  return out;
}

RootSpec root_spec_of(const RootMetadata& root) {
  RootSpec spec;
  spec.version = root.version;
  spec.expires = root.expires;
  spec.root_threshold = root.root_keys.threshold;
  spec.release_threshold = root.release_keys.threshold;
  const auto copy_keys = [](const KeySet& set, std::vector<PublicKey>& out) {
    for (std::size_t i = 0; i < set.count; ++i) {
      const KeyEntry& k = set.keys[i];
      out.push_back(
          PublicKey{k.algorithm, std::vector<std::byte>(k.public_key.begin(), k.public_key.end())});
    }
  };
  copy_keys(root.root_keys, spec.root_keys);
  copy_keys(root.release_keys, spec.release_keys);
  spec.revoked.assign(root.revoked.begin(),
                      root.revoked.begin() + static_cast<std::ptrdiff_t>(root.revoked_count));
  return spec;
}

}  // namespace updraft::manifest
