#include "manifest/artifact_verifier.h"

#include "crypto/constant_time.h"

namespace updraft::manifest {

Result<std::uint32_t> declared_size(const Manifest& manifest, ArtifactKind kind) {
  if (kind == ArtifactKind::kFullImage) return manifest.image_size;
  if (kind == ArtifactKind::kPatch && manifest.is_delta) return manifest.delta.patch_size;
  return ErrorCode::kArtifactKindMismatch;
}

Result<void> ArtifactVerifier::start(const Manifest& manifest, ArtifactKind kind) {
  hash_.reset();
  received_ = 0;
  declared_size_ = 0;
  UPDRAFT_TRY_ASSIGN(declared_size_, manifest::declared_size(manifest, kind));
  expected_ = kind == ArtifactKind::kPatch ? manifest.delta.patch_hash : manifest.image_hash;
  return ok_result();
}

Result<void> ArtifactVerifier::update(ByteView chunk) {
  if (chunk.size() > declared_size_ - received_) return ErrorCode::kArtifactTooLarge;
  hash_.update(chunk);
  received_ += static_cast<std::uint32_t>(chunk.size());
  return ok_result();
}

Result<void> ArtifactVerifier::finish() {
  if (received_ != declared_size_) return ErrorCode::kArtifactTruncated;
  if (!constant_time_equal(hash_.finish(), expected_)) return ErrorCode::kHashMismatch;
  return ok_result();
}

}  // namespace updraft::manifest
