// What a verified manifest tells the agent to install, and the interface that
// turns signed manifest bytes into it (portable). The implementation is the
// manifest verifier (manifest/), behind this interface so the agent's state
// machine stays independent of the manifest's byte format.
#pragma once

#include <array>
#include <cstdint>

#include "agent/boot_state.h"
#include "agent/port/transport.h"
#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sha256.h"

namespace updraft::agent {

struct UpdateTarget {
  ArtifactKind kind = ArtifactKind::kFullImage;
  std::uint32_t image_size = 0;
  Sha256Digest image_hash{};
  std::uint32_t artifact_size = 0;  // bytes to fetch: the patch or the full image
  Sha256Digest artifact_hash{};     // their SHA-256 (the image's, for a full image)
  std::uint32_t security_counter = 0;
  std::array<char, kMaxText> version{};
  // Identifies this update in the journal, so a resumed download continues only the
  // same artifact. Not the manifest's hash: every check-in answer is signed anew
  // with its own nonce and expiry, and resuming must survive that.
  Sha256Digest update_id{};
};

struct CheckContext {
  std::uint64_t now = 0;    // unix seconds
  std::uint64_t nonce = 0;  // the nonce this check-in sent
  const SlotInfo* running = nullptr;
  std::uint32_t stored_counter = 0;  // anti-rollback floor
};

class ManifestChecker {
 public:
  // Verifies signatures, product, hardware, freshness, nonce, anti-rollback and,
  // for a delta, that it starts from the running image; 2xx error otherwise.
  virtual Result<UpdateTarget> check(ByteView manifest, ArtifactKind kind,
                                     const CheckContext& context) = 0;

 protected:
  ~ManifestChecker() = default;
};

}  // namespace updraft::agent
