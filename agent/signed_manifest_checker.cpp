#include "agent/signed_manifest_checker.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "manifest/artifact_verifier.h"
#include "manifest/verifier.h"

namespace updraft::agent {

Result<void> SignedManifestChecker::init() {
  UPDRAFT_TRY(manifest::parse_root(root_bytes_, root_));
  root_ok_ = true;
  return {};
}

Result<void> SignedManifestChecker::set_root(ByteView trusted_root) {
  root_ok_ = false;
  root_bytes_ = trusted_root;
  return init();
}

Result<UpdateTarget> SignedManifestChecker::check(ByteView bytes, ArtifactKind kind,
                                                  const CheckContext& context) {
  if (!root_ok_ || context.running == nullptr) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY(manifest::parse_manifest(bytes, manifest_));

  const SlotInfo& running = *context.running;
  const char* version_end = std::find(running.version.begin(), running.version.end(), '\0');
  const std::string_view running_version(
      running.version.data(), static_cast<std::size_t>(version_end - running.version.data()));
  manifest::DeviceState device;
  device.product = product_;
  device.hardware = hardware_;
  device.security_counter = context.stored_counter;
  device.running_image_hash = running.hash;
  // A device provisioned without a semantic version compares as 0.0.0: any
  // signed version may replace it, and the security counter still guards rollback.
  if (Result<manifest::SemVer> v = manifest::parse_semver(running_version); v.ok())
    device.installed_version = *v;
  UPDRAFT_TRY(
      manifest::verify_manifest(manifest_, root_, verifier_, device,
                                manifest::CheckIn{context.now, context.nonce, context.local}));
  // A patch needs a manifest that describes one; a full image is named by every manifest.
  UPDRAFT_TRY_ASSIGN(const std::uint32_t artifact_size, manifest::declared_size(manifest_, kind));

  UpdateTarget target;
  target.kind = kind;
  target.image_size = manifest_.image_size;
  target.image_hash = manifest_.image_hash;
  target.artifact_size = artifact_size;
  target.artifact_hash =
      kind == ArtifactKind::kPatch ? manifest_.delta.patch_hash : manifest_.image_hash;
  target.security_counter = manifest_.security_counter;
  const std::size_t n = std::min(manifest_.version_text.size(), target.version.size() - 1);
  std::memcpy(target.version.data(), manifest_.version_text.data(), n);
  // The target image and the artifact, never the nonce or expiry (update_target.h).
  Sha256 id;
  id.update(target.image_hash);
  const std::byte kind_byte{static_cast<std::uint8_t>(kind)};
  id.update(ByteView(&kind_byte, 1));
  if (kind == ArtifactKind::kPatch) id.update(manifest_.delta.patch_hash);
  target.update_id = id.finish();
  return target;
}

}  // namespace updraft::agent
