// Key ids: the first 8 bytes of SHA-256 over the raw public key (32 bytes Ed25519,
// 65 bytes uncompressed P-256). An id only selects which key of the trusted root to
// verify a signature with; the key itself decides. So a colliding id cannot forge
// anything, and 8 bytes keep a signature entry small. Root metadata that names two
// keys with one id is malformed. Portable; a digest's worth of stack.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/bytes.h"
#include "crypto/sha256.h"
#include "manifest/manifest_format.h"

namespace updraft::manifest {

using KeyId = std::array<std::byte, kKeyIdSize>;

inline KeyId key_id_of(ByteView public_key) {
  const Sha256Digest digest = Sha256::digest(public_key);
  KeyId id;
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

}  // namespace updraft::manifest
