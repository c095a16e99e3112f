// Root metadata: the keys a device trusts, in TUF's style (docs/formats/manifest.md).
// Root keys sign root metadata, a threshold of them at a time, and so rotate every
// key; release keys sign manifests, a threshold of them at a time; revoked key ids
// make their signatures fail even when a stale manifest still carries them.
// Portable: parse_root() fills a fixed-size struct the caller provides, no heap. The
// struct points into the bytes it was parsed from (public keys, signatures), so those
// bytes must outlive it: on an MCU, typically the root as stored in memory-mapped flash.
// RAM (Cortex-M4, -Os): sizeof(RootMetadata) = 656 bytes; parse_root() needs < 1 KB
// bytes of stack (it hashes each key for its id). A rotation holds two of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/signature_verifier.h"
#include "manifest/envelope.h"
#include "manifest/key_id.h"
#include "manifest/manifest_format.h"

namespace updraft::manifest {

struct KeyEntry {
  KeyId id{};  // derived from public_key, not stored in the file
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519;
  ByteView public_key;
};

// The keys of one role and how many of them must sign.
struct KeySet {
  std::array<KeyEntry, kMaxKeysPerRole> keys{};
  std::size_t count = 0;
  std::uint8_t threshold = 0;

  // The key with `id`, or nullptr.
  const KeyEntry* find(const KeyId& id) const;
};

struct RootMetadata {
  std::uint32_t version = 0;
  std::uint64_t expires = 0;  // unix seconds, 0 = never; valid while now < expires
  KeySet root_keys;
  KeySet release_keys;
  std::array<KeyId, kMaxRevokedKeys> revoked{};
  std::size_t revoked_count = 0;

  ByteView signed_region;
  SignatureList signatures;

  bool is_revoked(const KeyId& id) const;
};

// Parses and checks the structure of signed root metadata. kManifestMalformed for a
// wrong length or limit, a threshold of 0 or above its key count, a public key of
// the wrong form, a key listed twice (within or across roles), or a revoked id that
// is also listed as a key; `out` is then unspecified. Signatures are not verified
// here (manifest/verifier.h).
Result<void> parse_root(ByteView bytes, RootMetadata& out);

}  // namespace updraft::manifest
