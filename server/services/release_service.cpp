#include "server/services/release_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "manifest/manifest.h"
#include "manifest/semver.h"
#include "server/mender/mender_artifact.h"
#include "server/mender/mender_keys.h"
#include "server/services/audit_log.h"
#include "server/services/utf8.h"

namespace updraft::server {
namespace {

constexpr std::uint64_t kMaxImageSize = 0xFFFFFFFFu;  // manifests carry a 32-bit size

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }

// The reason, never the server's paths: the message goes to API clients.
Error io_error(const std::string& what, int error) {
  return Error(ErrorCode::kIoError, what + ": " + std::strerror(error));
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Deletes `path` when it goes out of scope, unless cleared first.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

HostResult<Sha256Digest> digest_of_hex(const std::string& hex) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, from_hex(hex));
  Sha256Digest d{};
  if (bytes.size() != d.size()) return Error(ErrorCode::kInvalidArgument, "not a SHA-256: " + hex);
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

}  // namespace

HostResult<Product> ReleaseService::check_upload(const ReleaseUpload& upload) {
  // Text that is stored (or quoted back) must be UTF-8 before anything else.
  UPDRAFT_TRY(require_utf8("product", upload.product));
  UPDRAFT_TRY(require_utf8("version", upload.version));
  UPDRAFT_TRY(require_utf8("notes", upload.notes));
  UPDRAFT_TRY(require_utf8("enos_version", upload.enos_version));
  for (const std::string& id : upload.hardware) UPDRAFT_TRY(require_utf8("hardware", id));
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
  return product;
}

HostResult<std::uint64_t> ReleaseService::upload_limit(const ReleaseUpload& upload) {
  UPDRAFT_TRY_ASSIGN(const Product product, check_upload(upload));
  std::uint64_t limit = std::min<std::uint64_t>(max_image_bytes_, kMaxImageSize);
  if (product.slot_size != 0) limit = std::min<std::uint64_t>(limit, product.slot_size);
  return limit;
}

HostResult<Release> ReleaseService::upload(const ReleaseUpload& upload, const ImageFile& image,
                                           const std::string& actor, UnixTime now) {
  RemoveOnExit incoming{image.path};
  if (!is_sha256_hex(image.sha256)) {
    return Error(ErrorCode::kInternal, "the uploaded image's hash is not a SHA-256");
  }
  std::lock_guard lock(upload_mutex_);
  UPDRAFT_TRY_ASSIGN(const Product product, check_upload(upload));
  if (image.size == 0) return bad("image: empty");
  if (image.size > kMaxImageSize) return bad("image: larger than 4 GiB");
  if (product.slot_size != 0 && image.size > product.slot_size) {
    return bad("image: " + std::to_string(image.size) + " bytes do not fit the product's " +
               std::to_string(product.slot_size) + "-byte slot");
  }
  if (image.size > max_image_bytes_) {
    return bad("image: " + std::to_string(image.size) + " bytes, more than the server's limit of " +
               std::to_string(max_image_bytes_));
  }

  Release release;
  release.product = product.id;
  release.version = upload.version;
  release.security_counter = upload.security_counter;
  release.hardware = upload.hardware;
  release.allow_downgrade = upload.allow_downgrade;
  release.size = image.size;
  release.sha256 = image.sha256;
  release.notes = upload.notes;
  release.enos_version = upload.enos_version;
  release.mender_artifact_name = upload.mender_artifact_name;
  release.created_at = now;

  // Content-addressed: the same bytes may be stored already (another product's
  // release, say). Then the incoming copy goes, and a failure below keeps the file.
  UPDRAFT_TRY_ASSIGN(const bool existed, artifacts_.exists(ArtifactKind::kImage, release.sha256));
  if (!existed) {
    UPDRAFT_TRY(artifacts_.put(ArtifactKind::kImage, release.sha256, image.path));
    incoming.path.clear();
  }
  HostResult<Release> stored = store_.create_release(release);
  if (!stored.ok()) {
    if (!existed) (void)artifacts_.remove(ArtifactKind::kImage, release.sha256);
    return stored.error();
  }
  (void)append_audit(store_, now, actor, "release.upload",
                     "release/" + std::to_string(stored->id.value),
                     {{"product", upload.product},
                      {"version", upload.version},
                      {"sha256", release.sha256},
                      {"size", release.size}});
  return stored;
}

namespace {

std::string mender_key_setting(ProductId product) {
  return "mender.verify_key." + std::to_string(product.value);
}

std::string join(const std::vector<std::string>& list, const char* separator) {
  std::string out;
  for (const std::string& item : list) out += (out.empty() ? "" : separator) + item;
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

HostResult<Release> ReleaseService::upload_mender(const MenderUpload& upload,
                                                  const ImageFile& artifact_file,
                                                  const std::string& actor, UnixTime now) {
  RemoveOnExit incoming{artifact_file.path};
  UPDRAFT_TRY_ASSIGN(const mender::Artifact artifact,
                     mender::read_artifact_file(artifact_file.path));
  ReleaseUpload up;
  up.product = upload.product;
  if (up.product.empty()) {
    UPDRAFT_TRY_ASSIGN(const std::vector<Product> products, store_.products());
    for (const Product& p : products) {
      if (!contains(artifact.device_types, p.name)) continue;
      if (!up.product.empty()) {
        return bad("product: the artifact's device types name both " + up.product + " and " +
                   p.name + "; say which");
      }
      up.product = p.name;
    }
    if (up.product.empty())
      return Error(ErrorCode::kApiNotFound,
                   "product: no product is named like a device type of the artifact (" +
                       join(artifact.device_types, ", ") + ")");
  } else if (!contains(artifact.device_types, up.product)) {
    return bad("artifact_depends.device_type: [" + join(artifact.device_types, ", ") +
               "] does not include product " + up.product);
  }
  up.version = upload.version.empty() ? artifact.name : upload.version;
  if (upload.version.empty() && !manifest::parse_semver(up.version).ok())
    return bad("version: required, since the artifact's name \"" + artifact.name +
               "\" is not a semantic version");
  up.security_counter = upload.security_counter;
  up.hardware = artifact.device_types;
  up.notes = upload.notes;
  up.mender_artifact_name = artifact.name;
  UPDRAFT_TRY_ASSIGN(const Product product, check_upload(up));
  UPDRAFT_TRY_ASSIGN(const std::string key, mender_key(product.id));
  if (!key.empty()) {
    UPDRAFT_TRY(mender::verify_artifact_signature(artifact, key));
  }
  // Names are what Mender clients report: one per product.
  UPDRAFT_TRY_ASSIGN(const std::vector<Release> existing, store_.releases(product.id));
  for (const Release& r : existing) {
    if (r.mender_artifact_name == artifact.name)
      return Error(ErrorCode::kApiConflict, "artifact_name: release " + r.version + " of " +
                                                product.name + " is \"" + artifact.name + "\"");
  }
  incoming.path.clear();  // upload() consumes it from here
  return this->upload(up, artifact_file, actor, now);
}

HostResult<std::string> ReleaseService::mender_key(ProductId product) {
  HostResult<std::string> key = store_.setting(mender_key_setting(product));
  if (!key.ok() && key.error().code == ErrorCode::kStoreNotFound) return std::string();
  return key;
}

HostResult<void> ReleaseService::set_mender_key(const Product& product, const std::string& pem,
                                                const std::string& actor, UnixTime now) {
  std::string kind = "none";
  if (!pem.empty()) {
    UPDRAFT_TRY_ASSIGN(kind, mender::public_key_kind(pem));
  }
  return store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY(store_.set_setting(mender_key_setting(product.id), pem));
    return append_audit(store_, now, actor, "product.mender_key", "product/" + product.name,
                        {{"kind", kind}});
  });
}

HostResult<Release> ReleaseService::upload(const ReleaseUpload& upload, ByteView image,
                                           const std::string& actor, UnixTime now) {
  const std::string path = artifacts_.staging_dir() + "/upload-" + std::to_string(::getpid()) +
                           "-" + std::to_string(incoming_++);
  RemoveOnExit written{path};
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("storing the image", errno);
  const bool wrote = write_at(fd, image.data(), image.size(), 0);
  const int write_error = errno;
  if (::close(fd) != 0 || !wrote) return io_error("storing the image", wrote ? errno : write_error);
  written.path.clear();  // the other upload() owns it now
  return this->upload(upload, ImageFile{path, image.size(), to_hex(Sha256::digest(image))}, actor,
                      now);
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

HostResult<Release> ReleaseService::remove(ReleaseId id, DeltaCache& deltas,
                                           const std::string& actor, UnixTime now) {
  std::lock_guard lock(upload_mutex_);  // an upload of the same bytes keeps its image
  Release removed;
  bool image_shared = false;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(removed, release(id));
    UPDRAFT_TRY_ASSIGN(const std::vector<Campaign> campaigns, store_.campaigns());
    for (const Campaign& c : campaigns) {
      if (c.release != id) continue;
      return Error(ErrorCode::kApiConflict, "release " + std::to_string(id.value) +
                                                " is used by campaign " +
                                                std::to_string(c.id.value) + " (" + c.name + ")");
    }
    UPDRAFT_TRY(store_.delete_release(id));
    UPDRAFT_TRY_ASSIGN(const std::vector<Release> rest, store_.releases(std::nullopt));
    image_shared = std::any_of(rest.begin(), rest.end(),
                               [&](const Release& r) { return r.sha256 == removed.sha256; });
    return append_audit(store_, now, actor, "release.delete", "release/" + std::to_string(id.value),
                        {{"version", removed.version}, {"sha256", removed.sha256}});
  }));
  if (!image_shared) {
    // After the commit, best effort: a file left behind is only disk.
    deltas.forget_target(removed.sha256);
    (void)artifacts_.remove(ArtifactKind::kImage, removed.sha256);
  }
  return removed;
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
