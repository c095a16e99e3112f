#include "server/services/release_service.h"

#include <filesystem>

#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "manifest/manifest.h"
#include "manifest/semver.h"
#include "server/services/audit_log.h"

namespace updraft::server {
namespace {

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }

HostResult<Sha256Digest> digest_of_hex(const std::string& hex) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, from_hex(hex));
  Sha256Digest d{};
  if (bytes.size() != d.size()) return Error(ErrorCode::kInvalidArgument, "not a SHA-256: " + hex);
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

}  // namespace

HostResult<Release> ReleaseService::upload(const ReleaseUpload& upload, ByteView image,
                                           const std::string& actor, UnixTime now) {
  HostResult<Product> product = store_.product_by_name(upload.product);
  if (!product.ok()) return Error(ErrorCode::kApiNotFound, "no product \"" + upload.product + "\"");
  if (upload.version.size() > manifest::kMaxVersionSize ||
      !manifest::parse_semver(upload.version).ok()) {
    return bad("version: \"" + upload.version + "\" is not a semantic version (at most 23 bytes)");
  }
  if (upload.hardware.empty() || upload.hardware.size() > manifest::kMaxHardwareIds) {
    return bad("hardware: list 1 to " + std::to_string(manifest::kMaxHardwareIds) +
               " hardware ids");
  }
  for (const std::string& id : upload.hardware) {
    if (!manifest::valid_id_text(id, manifest::kMaxHardwareIdSize)) {
      return bad("hardware: \"" + id +
                 "\" must be 1..32 printable ASCII characters without spaces");
    }
  }
  if (!upload.enos_version.empty() && !manifest::valid_id_text(upload.enos_version, 64))
    return bad("enos_version: 1..64 printable ASCII characters without spaces");
  if (image.empty()) return bad("image: empty");
  if (image.size() > 0xFFFFFFFFu) return bad("image: larger than 4 GiB");
  if (product->slot_size != 0 && image.size() > product->slot_size) {
    return bad("image: " + std::to_string(image.size()) + " bytes do not fit the product's " +
               std::to_string(product->slot_size) + "-byte slot");
  }
  // Anti-rollback is only as good as the counters the operator assigns: refuse one
  // below the newest release's, which devices would refuse anyway.
  // Counters must not fall as versions rise: refuse a newer version with a lower
  // counter than an older release's, which would let devices roll back to it.
  UPDRAFT_TRY_ASSIGN(std::vector<Release> existing, store_.releases(product->id));
  const manifest::SemVer version = manifest::parse_semver(upload.version).value();
  for (const Release& r : existing) {
    if (r.version == upload.version) {
      return Error(ErrorCode::kApiConflict,
                   "release " + upload.product + " " + upload.version + " exists");
    }
    const Result<manifest::SemVer> other = manifest::parse_semver(r.version);
    if (other.ok() && manifest::compare(version, *other) > 0 &&
        upload.security_counter < r.security_counter) {
      return bad("security_counter: " + std::to_string(upload.security_counter) +
                 " is below older release " + r.version + "'s " +
                 std::to_string(r.security_counter));
    }
  }

  Release release;
  release.product = product->id;
  release.version = upload.version;
  release.security_counter = upload.security_counter;
  release.hardware = upload.hardware;
  release.allow_downgrade = upload.allow_downgrade;
  release.size = image.size();
  release.sha256 = to_hex(Sha256::digest(image));
  release.notes = upload.notes;
  release.enos_version = upload.enos_version;
  release.created_at = now;
  std::filesystem::create_directories(images_dir_);
  UPDRAFT_TRY(write_file_atomic(images_dir_ + "/" + release.sha256, image));
  UPDRAFT_TRY_ASSIGN(Release stored, store_.create_release(release));
  (void)append_audit(store_, now, actor, "release.upload",
                     "release/" + std::to_string(stored.id.value),
                     {{"product", upload.product},
                      {"version", upload.version},
                      {"sha256", release.sha256},
                      {"size", release.size}});
  return stored;
}

HostResult<std::vector<Release>> ReleaseService::releases(std::optional<ProductId> product) {
  return store_.releases(product);
}

HostResult<Release> ReleaseService::release(ReleaseId id) {
  HostResult<Release> found = store_.release(id);
  if (!found.ok() && found.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no release " + std::to_string(id.value));
  return found;
}

HostResult<std::vector<std::byte>> ReleaseService::sign_answer(
    const Product& product, const Release& release, const DeltaCache::Artifact& artifact,
    const std::string& from_sha256, UnixTime expires, std::uint64_t nonce) const {
  manifest::ManifestSpec spec;
  spec.product = product.name;
  spec.hardware = release.hardware;
  spec.version = release.version;
  spec.security_counter = release.security_counter;
  spec.allow_downgrade = release.allow_downgrade;
  spec.image_size = static_cast<std::uint32_t>(release.size);
  UPDRAFT_TRY_ASSIGN(spec.image_hash, digest_of_hex(release.sha256));
  if (artifact.kind == DeltaCache::Artifact::Kind::kDelta) {
    manifest::DeltaInfo delta;
    UPDRAFT_TRY_ASSIGN(delta.source_hash, digest_of_hex(from_sha256));
    delta.patch_size = static_cast<std::uint32_t>(artifact.size);
    UPDRAFT_TRY_ASSIGN(delta.patch_hash, digest_of_hex(artifact.sha256));
    spec.delta = delta;
  }
  spec.check_in = manifest::Freshness{static_cast<std::uint64_t>(expires), nonce};
  return keys_.sign_manifest(spec);
}

}  // namespace updraft::server
