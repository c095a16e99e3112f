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
  bool local = false;  // a local file, not a check-in answer (manifest::CheckIn::local)
};

// Keeps the device's trusted root metadata current (agent/root_keeper.h): the
// agent sends root_version() with each check-in, and hands over the next root a
// server answers with. Optional: an agent without one never asks for roots.
class RootUpdater {
 public:
  virtual std::uint32_t root_version() const = 0;
  // Where a transport may write the root a server sends; its size is the largest
  // root this device holds.
  virtual MutableByteView root_buffer() = 0;
  // Accepts `root` only as the next version, signed by a threshold of the trusted
  // root's root keys and of its own (manifest::verify_root_rotation), and keeps it
  // in flash before it is trusted. Otherwise the trusted root is unchanged and the
  // refusal's 2xx code returned (218 ROOT_ROTATION_INVALID, 219, 201, ...); a flash
  // error leaves the old root or the new one in flash, never neither.
  virtual Result<void> install_root(ByteView root) = 0;

 protected:
  ~RootUpdater() = default;
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
