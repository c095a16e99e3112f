#include "manifest/root_metadata.h"

#include "manifest/byte_reader.h"

namespace updraft::manifest {
namespace {

constexpr std::byte kUncompressedPoint{0x04};

Result<KeyEntry> read_key(ByteReader& reader) {
  KeyEntry key;
  UPDRAFT_TRY_ASSIGN(const std::uint8_t algorithm, reader.u8());
  key.algorithm = static_cast<SignatureAlgorithm>(algorithm);
  const std::size_t size = public_key_size(key.algorithm);
  if (size == 0) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(key.public_key, reader.bytes(size));
  // The one encoding a device's backend expects; a compressed point would be
  // another file for the same key, with another id.
  if (key.algorithm == SignatureAlgorithm::kEcdsaP256Sha256 &&
      key.public_key[0] != kUncompressedPoint) {
    return ErrorCode::kManifestMalformed;
  }
  // An RSA modulus of exactly the stated size (top bit set) and odd: with leading
  // zeros it would be a smaller key under a bigger name.
  if (is_rsa(key.algorithm) && ((std::to_integer<unsigned>(key.public_key[0]) & 0x80u) == 0 ||
                                (std::to_integer<unsigned>(key.public_key[size - 1]) & 1u) == 0)) {
    return ErrorCode::kManifestMalformed;
  }
  key.id = key_id_of(key.public_key);
  return key;
}

Result<void> read_keys(ByteReader& reader, KeySet& set, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    UPDRAFT_TRY_ASSIGN(set.keys[i], read_key(reader));
  }
  set.count = count;
  return ok_result();
}

bool valid_threshold(std::uint8_t threshold, std::size_t count) {
  return count <= kMaxKeysPerRole && threshold >= 1 && threshold <= count;
}

Result<void> parse_body(ByteView body, RootMetadata& root) {
  ByteReader reader(body);
  UPDRAFT_TRY_ASSIGN(root.version, reader.u32());
  UPDRAFT_TRY_ASSIGN(root.expires, reader.u64());
  UPDRAFT_TRY_ASSIGN(root.root_keys.threshold, reader.u8());
  UPDRAFT_TRY_ASSIGN(root.release_keys.threshold, reader.u8());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t root_count, reader.u8());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t release_count, reader.u8());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t revoked_count, reader.u8());
  if (!valid_threshold(root.root_keys.threshold, root_count) ||
      !valid_threshold(root.release_keys.threshold, release_count) ||
      revoked_count > kMaxRevokedKeys) {
    return ErrorCode::kManifestMalformed;
  }
  UPDRAFT_TRY(read_keys(reader, root.root_keys, root_count));
  UPDRAFT_TRY(read_keys(reader, root.release_keys, release_count));
  for (std::size_t i = 0; i < revoked_count; ++i) {
    UPDRAFT_TRY_ASSIGN(root.revoked[i], reader.array<kKeyIdSize>());
  }
  root.revoked_count = revoked_count;
  if (reader.remaining() != 0) return ErrorCode::kManifestMalformed;

  // Each id names one key in one role. A key in both roles would let a release key
  // (kept online, more exposed) rotate the root; a duplicate would count twice
  // toward a threshold; a revoked listed key would be trusted and refused at once.
  const KeySet* sets[] = {&root.root_keys, &root.release_keys};
  for (const KeySet* a : sets) {
    for (std::size_t i = 0; i < a->count; ++i) {
      const KeyId& id = a->keys[i].id;
      std::size_t seen = 0;
      for (const KeySet* b : sets) {
        for (std::size_t j = 0; j < b->count; ++j) seen += b->keys[j].id == id ? 1 : 0;
      }
      if (seen != 1 || root.is_revoked(id)) return ErrorCode::kManifestMalformed;
    }
  }
  for (std::size_t i = 0; i < root.revoked_count; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (root.revoked[i] == root.revoked[j]) return ErrorCode::kManifestMalformed;
    }
  }
  return ok_result();
}

}  // namespace

const KeyEntry* KeySet::find(const KeyId& id) const {
  for (std::size_t i = 0; i < count; ++i) {
    if (keys[i].id == id) return &keys[i];
  }
  return nullptr;
}

bool RootMetadata::is_revoked(const KeyId& id) const {
  for (std::size_t i = 0; i < revoked_count; ++i) {
    if (revoked[i] == id) return true;
  }
  return false;
}

Result<void> parse_root(ByteView bytes, RootMetadata& out) {
  if (bytes.size() > kMaxRootSize) return ErrorCode::kManifestMalformed;
  Envelope envelope;
  UPDRAFT_TRY(parse_envelope(bytes, kRootMagic, kMaxRootSignatures, envelope));
  out = RootMetadata{};
  UPDRAFT_TRY(parse_body(envelope.body, out));
  out.signed_region = envelope.signed_region;
  out.signatures = envelope.signatures;
  return ok_result();
}

}  // namespace updraft::manifest
