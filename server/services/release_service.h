// Releases: an operator uploads an image for a product; the server validates it,
// stores it under its SHA-256 and signs what devices install. A failed upload
// leaves neither a row nor a file behind. Check-in answers are
// signed per device and check-in (nonce, expiry) from the release's fields.
// Host only; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
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
  std::string enos_version;          // free text EnOS devices report, e.g. "v2.0.0.1"; "" for none
  std::string mender_artifact_name;  // set by upload_mender only
};

// A Mender artifact's release: what the artifact does not say itself.
struct MenderUpload {
  std::string product;  // "": the product named like one of the artifact's device types
  std::string version;  // "": the artifact's name, when that is a semantic version
  std::uint32_t security_counter = 0;
  std::string notes;
};

// An uploaded image already on disk (updraftd streams it there, hashing on the way).
struct ImageFile {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

// What a device is told to install at one check-in.
struct SignedOffer {
  std::vector<std::byte> manifest;  // signed check-in answer
  DeltaCache::Artifact artifact;
};

class ReleaseService {
 public:
  static constexpr std::uint64_t kDefaultMaxImageBytes = std::uint64_t{1} << 30;

  // Images are kept in `artifacts`, each under its SHA-256. `max_image_bytes`
  // bounds every image, whatever its product's slot.
  ReleaseService(Store& store, const ServerKeys& keys, ArtifactStore& artifacts,
                 std::uint64_t max_image_bytes = kDefaultMaxImageBytes)
      : store_(store), keys_(keys), artifacts_(artifacts), max_image_bytes_(max_image_bytes) {}

  // Before the image is received: every rule that does not need it (text fields
  // UTF-8, product, semver, ids, counter, version not taken), and the most bytes
  // the image may have: the product's slot, or max_image_bytes when smaller or
  // when the product has none. Errors as upload()'s.
  HostResult<std::uint64_t> upload_limit(const ReleaseUpload& upload);

  // Validates (text fields UTF-8, semver, ids, counter not below the product's
  // newest, size within the product's slot and max_image_bytes), puts the image
  // into the artifact store under its SHA-256 (a rename for a directory store,
  // so atomic) and records the release. The file is consumed: moved on success, deleted on any
  // failure. kApiBadRequest naming the field / kApiNotFound (product) /
  // kApiConflict (version exists) / kIoError with the reason (never a path).
  HostResult<Release> upload(const ReleaseUpload& upload, const ImageFile& image,
                             const std::string& actor, UnixTime now);
  // The same for an image in memory (tests, tools).
  HostResult<Release> upload(const ReleaseUpload& upload, ByteView image, const std::string& actor,
                             UnixTime now);

  // A .mender file (docs/api/mender.md) as a release: read and checked whole
  // (server/mender/mender_artifact.h); its product is `upload.product`, which must
  // be one of the artifact's device types, or else the one product named like
  // one of them; hardware = the device types. When the product holds a Mender
  // verification key, the artifact must be signed with it. Then as upload(): the
  // file is consumed, and errors name the field ("manifest.sig: ...").
  HostResult<Release> upload_mender(const MenderUpload& upload, const ImageFile& artifact,
                                    const std::string& actor, UnixTime now);
  std::uint64_t max_image_bytes() const { return max_image_bytes_; }

  // The product's Mender verification key (PEM), "" for none; setting "" removes it.
  HostResult<std::string> mender_key(ProductId product);
  HostResult<void> set_mender_key(const Product& product, const std::string& pem,
                                  const std::string& actor, UnixTime now);

  // The product's releases (all products' with nullopt), oldest first.
  HostResult<std::vector<Release>> releases(std::optional<ProductId> product);
  // `limit` of them from the `offset`-th newest, and how many there are.
  HostResult<Page<Release>> release_page(std::optional<ProductId> product, std::size_t limit,
                                         std::size_t offset) {
    return store_.release_page(product, limit, offset);
  }
  // kApiNotFound "no release <id>".
  HostResult<Release> release(ReleaseId id);
  // Deletes a release no campaign uses, audited as "release.delete". Its image
  // goes too unless another release has the same bytes, and with it the patches
  // built to it (`deltas`). Patches from it stay: devices may still run it.
  // kApiNotFound; kApiConflict naming a campaign that uses it.
  HostResult<Release> remove(ReleaseId id, DeltaCache& deltas, const std::string& actor,
                             UnixTime now);

  // The check-in answer for `release` with `artifact` (a patch from `from_sha256`,
  // or the full image), valid until `expires`, echoing the device's `nonce`.
  HostResult<std::vector<std::byte>> sign_answer(const Product& product, const Release& release,
                                                 const DeltaCache::Artifact& artifact,
                                                 const std::string& from_sha256, UnixTime expires,
                                                 std::uint64_t nonce) const;

 private:
  // The upload's product, once every rule that needs no image holds.
  HostResult<Product> check_upload(const ReleaseUpload& upload);

  Store& store_;
  const ServerKeys& keys_;
  ArtifactStore& artifacts_;
  std::uint64_t max_image_bytes_;
  // Serializes placing an image and recording its release, so a failed upload
  // never deletes a file another upload of the same bytes has just recorded.
  std::mutex upload_mutex_;
  std::atomic<std::uint64_t> incoming_{0};  // numbers in-memory images written out
};

}  // namespace updraft::server
