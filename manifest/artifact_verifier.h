// Checks a downloaded artifact against its manifest while the bytes stream in:
// never more than the declared size ("endless data": a server or a man in the
// middle that keeps sending would otherwise fill flash or stall the device), then
// exactly the declared size and SHA-256. Portable: no heap.
// RAM (Cortex-M4): sizeof(ArtifactVerifier) = 144 bytes (a Sha256 and the expected digest).
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sha256.h"
#include "manifest/manifest.h"

namespace updraft::manifest {

// The size the manifest declares for the artifact of `kind`, so a downloader stops
// asking for more at it. kArtifactKindMismatch for a patch of a manifest that
// describes no delta.
Result<std::uint32_t> declared_size(const Manifest& manifest, ArtifactKind kind);

class ArtifactVerifier {
 public:
  // Starts over for the artifact of `kind` that `manifest` declares.
  // kArtifactKindMismatch as declared_size(); the verifier then expects nothing.
  Result<void> start(const Manifest& manifest, ArtifactKind kind);

  std::uint32_t declared_size() const { return declared_size_; }
  std::uint32_t received() const { return received_; }

  // Hashes the next bytes. kArtifactTooLarge, taking none of `chunk`, when it would
  // carry the artifact past its declared size; the verifier stays usable for finish().
  Result<void> update(ByteView chunk);

  // kArtifactTruncated when fewer bytes than declared arrived, kHashMismatch when
  // their SHA-256 differs from the manifest's. Call once.
  Result<void> finish();

 private:
  Sha256 hash_;
  Sha256Digest expected_{};
  std::uint32_t declared_size_ = 0;
  std::uint32_t received_ = 0;
};

}  // namespace updraft::manifest
