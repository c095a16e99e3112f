// The agent's ManifestChecker on real signed manifests (portable, no heap): parses
// the check-in answer's manifest, runs every device-side check of
// manifest/verifier.h against the device's trusted root, and turns the result into
// the UpdateTarget the agent installs. Rejections keep their 2xx numbers.
//
// RAM: this object holds one parsed Manifest and the parsed root (~1.1 KB on a
// Cortex-M4) so that neither lands on a small device's stack; the root's bytes are
// the caller's and must outlive the checker. Not thread-safe.
#pragma once

#include <string_view>

#include "agent/update_target.h"
#include "crypto/signature_verifier.h"
#include "manifest/manifest.h"
#include "manifest/root_metadata.h"

namespace updraft::agent {

class SignedManifestChecker final : public ManifestChecker {
 public:
  // `product` and `hardware` name this device as the operator registered it; all
  // three views and `verifier` must outlive the checker. Call init() once.
  SignedManifestChecker(ByteView trusted_root, SignatureVerifier& verifier,
                        std::string_view product, std::string_view hardware)
      : root_bytes_(trusted_root), verifier_(verifier), product_(product), hardware_(hardware) {}

  // Parses the trusted root; kManifestMalformed if the device holds a broken one.
  Result<void> init();

  // Trusts `trusted_root` from now on (a root rotation, agent/root_keeper.h); its
  // bytes must outlive the checker. kManifestMalformed, and no root trusted, if it
  // does not parse.
  Result<void> set_root(ByteView trusted_root);
  // The parsed trusted root, or nullptr when none parsed.
  const manifest::RootMetadata* trusted_root() const { return root_ok_ ? &root_ : nullptr; }

  Result<UpdateTarget> check(ByteView manifest, ArtifactKind kind,
                             const CheckContext& context) override;

 private:
  ByteView root_bytes_;
  SignatureVerifier& verifier_;
  std::string_view product_;
  std::string_view hardware_;
  manifest::RootMetadata root_{};
  bool root_ok_ = false;
  manifest::Manifest manifest_{};
};

}  // namespace updraft::agent
