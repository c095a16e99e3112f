// The keys updraftd signs with, kept in <data>/keys (docs/design.md, "Keys"), and
// the root metadata it serves.
//
// Two modes, told apart by whether <data>/keys/root.key exists:
//   online root (the default, for trials): on first start updraftd makes a root key
//     and a release key and signs root metadata v1 itself, so one command gives a
//     working server. The root key then sits next to the release key: whoever
//     steals the server's disk can rotate every device's trust.
//   offline root (production): the root keys never touch the server. Root metadata
//     is made and signed with `updraft root create|sign` on another machine and
//     imported at start (`updraftd --root FILE`, load_or_create()'s import_roots);
//     updraftd holds only the release key and the roots it serves. A stolen server
//     can sign releases until the release key is revoked by a new root, never a root.
//
// Root rotation: every root version this server knows is kept in <data>/keys/roots/
// (<version>.bin) and <data>/keys/root.bin is the newest. A device that checks in
// with an older root version gets the next one (next_root()), verifies it against
// its own and keeps it (agent/root_keeper.h), one version at a time.
//
// The algorithm of keys made on first start: Ed25519 by default, ECDSA P-256 for
// devices that verify with mbedTLS (crypto/mbedtls/mbedtls_verifier.h has no
// Ed25519), RSA-2048/3072 PSS for fleets on RSA keys. Host only. Immutable after
// load, so thread-safe (signing is stateless).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"
#include "manifest/host/manifest_builder.h"

namespace updraft::server {

class ServerKeys {
 public:
  enum class RootMode { kOnline, kOffline };

  struct Options {
    // Of the keys made when the directory holds none (online mode).
    SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519;
    // Root metadata files to import, in order (offline mode; `updraftd --root`).
    // Each must be a version this server holds already (byte for byte), or the
    // next one: signed by a threshold of the newest root's root keys and of its
    // own. On an empty directory the first may be any version, signed by a
    // threshold of its own root keys: the root devices are provisioned with.
    std::vector<std::string> import_roots;
  };

  // Loads <dir>/release.key and the roots, importing `options.import_roots` first.
  // Without roots to import and with neither release.key nor root.bin, creates the
  // online-mode keys. kInvalidArgument, saying what to do, when: roots are imported
  // while root.key is in `dir`; there is no release key for imported roots; a root
  // does not parse or is not a valid next version; the newest root does not list
  // the release key (or revokes it).
  static HostResult<ServerKeys> load_or_create(
      const std::string& dir, SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519);
  static HostResult<ServerKeys> load_or_create(const std::string& dir, const Options& options);

  RootMode root_mode() const { return mode_; }
  // One line for updraftd's start: the mode, the newest root's version and expiry,
  // and the release key.
  std::string describe() const;

  // The algorithm of the release key, which signs everything devices receive.
  SignatureAlgorithm algorithm() const { return release_key_.algorithm(); }

  // The newest signed root metadata (docs/formats/manifest.md): devices are
  // provisioned with it (GET /api/v1/trust/root).
  const std::vector<std::byte>& root_metadata() const { return roots_.rbegin()->second; }
  std::uint32_t root_version() const { return roots_.rbegin()->first; }

  // The root a device that trusts root `version` takes next (version + 1), or
  // nullptr when it trusts the newest already, a version this server never knew,
  // or 0 (a device that keeps no root store).
  const std::vector<std::byte>* next_root(std::uint32_t version) const;

  // Encodes and signs a manifest with the release key.
  HostResult<std::vector<std::byte>> sign_manifest(const manifest::ManifestSpec& spec) const;

 private:
  std::string dir_;
  RootMode mode_ = RootMode::kOnline;
  SigningKey release_key_;
  std::map<std::uint32_t, std::vector<std::byte>> roots_;  // by version, never empty
};

}  // namespace updraft::server
