// Releases: an operator uploads an image for a product; the server validates it,
// stores it under its SHA-256 and signs what devices install. Check-in answers are
// signed per device and check-in (nonce, expiry) from the release's fields.
// Host only; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/host/error.h"
#include "server/deltas/delta_cache.h"
#include "server/services/server_keys.h"
#include "server/storage/store.h"

namespace updraft::server {

struct ReleaseUpload {
  std::string product;
  std::string version;
  std::uint32_t security_counter = 0;
  std::vector<std::string> hardware;
  bool allow_downgrade = false;
  std::string notes;
  std::string enos_version;  // free text EnOS devices report, e.g. "v2.0.0.1"; "" for none
};

// What a device is told to install at one check-in.
struct SignedOffer {
  std::vector<std::byte> manifest;  // signed check-in answer
  DeltaCache::Artifact artifact;
};

class ReleaseService {
 public:
  ReleaseService(Store& store, const ServerKeys& keys, std::string images_dir)
      : store_(store), keys_(keys), images_dir_(std::move(images_dir)) {}

  // Validates (semver, ids, counter not below the product's newest, size within the
  // product's slot), stores the image and records the release. kApiBadRequest /
  // kApiNotFound (product) / kApiConflict (version exists) with a message.
  HostResult<Release> upload(const ReleaseUpload& upload, ByteView image, const std::string& actor,
                             UnixTime now);

  // The product's releases (all products' with nullopt), oldest first.
  HostResult<std::vector<Release>> releases(std::optional<ProductId> product);
  // kApiNotFound "no release <id>".
  HostResult<Release> release(ReleaseId id);

  // The check-in answer for `release` with `artifact` (a patch from `from_sha256`,
  // or the full image), valid until `expires`, echoing the device's `nonce`.
  HostResult<std::vector<std::byte>> sign_answer(const Product& product, const Release& release,
                                                 const DeltaCache::Artifact& artifact,
                                                 const std::string& from_sha256, UnixTime expires,
                                                 std::uint64_t nonce) const;

 private:
  Store& store_;
  const ServerKeys& keys_;
  std::string images_dir_;
};

}  // namespace updraft::server
