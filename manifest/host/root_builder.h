// Builds root metadata on the host: a RootSpec (the keys of each role, thresholds,
// revocations) becomes the signed region that root keys sign (manifest/host/signer.h).
// root_spec_of() is the inverse. Host only.
#pragma once

#include <cstdint>
#include <vector>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"
#include "manifest/key_id.h"
#include "manifest/root_metadata.h"

namespace updraft::manifest {

struct RootSpec {
  std::uint32_t version = 1;
  std::uint64_t expires = 0;  // unix seconds, 0 = never
  std::uint8_t root_threshold = 1;
  std::uint8_t release_threshold = 1;
  std::vector<PublicKey> root_keys;
  std::vector<PublicKey> release_keys;
  std::vector<KeyId> revoked;

  bool operator==(const RootSpec&) const = default;
};

// Header + body, ready to sign. kInvalidArgument, saying why, for what a device
// would refuse: a threshold of 0 or above its key count, too many keys, a key in
// two places, a revoked id that is also a listed key.
HostResult<std::vector<std::byte>> encode_root(const RootSpec& spec);

RootSpec root_spec_of(const RootMetadata& root);

// Host convenience: the parsed root by value (a device fills its own struct).
inline Result<RootMetadata> parse_root(ByteView bytes) {
  RootMetadata root;
  UPDRAFT_TRY(parse_root(bytes, root));
  return root;
}

}  // namespace updraft::manifest
