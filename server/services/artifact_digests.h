// SHA-1 and MD5 of the files devices download, for protocols that name them
// beside SHA-256: hawkBit DDI lists both, EnOS signs its download with MD5.
// Computed once per file and kept in the store's settings under the file's
// SHA-256 (which names its content), so a fleet's polls cost no hashing. Host
// only; thread-safe as the store is.
#pragma once

#include <string>

#include "core/host/error.h"
#include "crypto/host/legacy_digests.h"
#include "server/storage/store.h"

namespace updraft::server {

class ArtifactDigests {
 public:
  explicit ArtifactDigests(Store& store) : store_(store) {}

  // The digests of the file at `path`, whose SHA-256 is `sha256` (hex).
  HostResult<LegacyDigests> of(const std::string& path, const std::string& sha256);

 private:
  Store& store_;
};

}  // namespace updraft::server
