// The keys updraftd signs with, kept in <data>/keys: the root key that signs the
// root metadata devices are provisioned with, and the release key that signs
// every manifest and check-in answer. Created on first start so one command gives
// a working server; an operator who keeps the root key offline puts their own
// root.bin (root metadata naming this release key) and release.key there instead.
// Host only. Thread-safe after load (signing is stateless).
#pragma once

#include <string>
#include <vector>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"
#include "manifest/host/manifest_builder.h"

namespace updraft::server {

class ServerKeys {
 public:
  // Loads <dir>/release.key and <dir>/root.bin, creating both (and root.key)
  // when the directory holds neither.
  static HostResult<ServerKeys> load_or_create(const std::string& dir);

  // The signed root metadata devices trust (docs/formats/manifest.md).
  const std::vector<std::byte>& root_metadata() const { return root_; }

  // Encodes and signs a manifest with the release key.
  HostResult<std::vector<std::byte>> sign_manifest(const manifest::ManifestSpec& spec) const;

 private:
  SigningKey release_key_;
  std::vector<std::byte> root_;
};

}  // namespace updraft::server
