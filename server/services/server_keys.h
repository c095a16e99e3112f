// The keys updraftd signs with, kept in <data>/keys: the root key that signs the
// root metadata devices are provisioned with, and the release key that signs
// every manifest and check-in answer. Created on first start so one command gives
// a working server; an operator who keeps the root key offline puts their own
// root.bin (root metadata naming this release key) and release.key there instead.
// The algorithm is chosen when the keys are made: Ed25519 by default, ECDSA P-256
// for fleets whose devices check signatures with mbedTLS or a vendor's P-256
// hardware (crypto/mbedtls/mbedtls_verifier.h has no Ed25519).
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
  // Loads <dir>/release.key and <dir>/root.bin, creating both (and root.key), as
  // keys of `algorithm`, when the directory holds neither. Keys that exist are kept
  // whatever their algorithm: devices already trust them.
  static HostResult<ServerKeys> load_or_create(
      const std::string& dir, SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519);

  // The algorithm of the release key, which signs everything devices receive.
  SignatureAlgorithm algorithm() const { return release_key_.algorithm(); }

  // The signed root metadata devices trust (docs/formats/manifest.md).
  const std::vector<std::byte>& root_metadata() const { return root_; }

  // Encodes and signs a manifest with the release key.
  HostResult<std::vector<std::byte>> sign_manifest(const manifest::ManifestSpec& spec) const;

 private:
  SigningKey release_key_;
  std::vector<std::byte> root_;
};

}  // namespace updraft::server
