// What a device checks before it installs anything, in the order it checks it
// (docs/formats/manifest.md, "Checks"). Each rejection has its own 2xx code, so a
// fleet report says which attack or mistake it was. Portable: no heap; the
// signature work goes through the caller's SignatureVerifier (vendor crypto on a
// device, OpenSSL on the host). RAM: < 300 bytes of stack plus what the
// SignatureVerifier needs; the message it verifies is the manifest itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "crypto/sha256.h"
#include "crypto/signature_verifier.h"
#include "manifest/manifest.h"
#include "manifest/root_metadata.h"
#include "manifest/semver.h"

namespace updraft::manifest {

// What a device knows about itself when it checks a check-in answer.
struct DeviceState {
  std::string_view product;
  std::string_view hardware;
  std::uint32_t security_counter = 0;  // the anti-rollback floor kept in flash
  SemVer installed_version;
  Sha256Digest running_image_hash{};  // a delta must start from this image
};

// The check-in this answer must belong to.
struct CheckIn {
  std::uint64_t now = 0;    // unix seconds, from the device's Clock
  std::uint64_t nonce = 0;  // the nonce the device sent with this check-in
  // A release manifest read from a local file (USB, recovery; updraft-agent
  // install): there is no check-in for it to answer, so no nonce is asked for.
  // Every other check holds, the security counter and the version among them.
  bool local = false;
};

// Every check on a check-in answer, in this order: trusted root not expired,
// release signatures, product, hardware, expiry, nonce, security counter, version,
// delta source. Signatures come first so that nothing unauthenticated is acted on.
// Returns the first failure's code. The artifact itself is checked while it
// downloads (manifest/artifact_verifier.h).
Result<void> verify_manifest(const Manifest& manifest, const RootMetadata& trusted_root,
                             SignatureVerifier& verifier, const DeviceState& device,
                             const CheckIn& check_in);

// The steps of verify_manifest(), for host tools that check a subset.

// kRootExpired when the root has an expiry and `now` has reached it.
Result<void> check_root_fresh(const RootMetadata& root, std::uint64_t now);

// The manifest carries valid signatures from at least the release threshold of
// distinct release keys that `root` authorizes and does not revoke. Signatures by
// keys the root does not know are skipped (a release may be signed by old and new
// keys while devices move between roots); a signature by a known release key must
// verify. Otherwise, most specific first: kSignatureInvalid, kSignatureMissing,
// kSignatureKeyRevoked, kSignatureKeyNotAuthorized (a root key signed it),
// kSignatureThresholdNotMet (too few valid), kSignatureUnknownKey.
Result<void> check_release_signatures(const Manifest& manifest, const RootMetadata& root,
                                      SignatureVerifier& verifier);

Result<void> check_product(const Manifest& manifest,
                           std::string_view product);  // kManifestWrongProduct
Result<void> check_hardware(const Manifest& manifest,
                            std::string_view hardware);  // kManifestWrongHardware

// kManifestExpired when the manifest is a check-in answer and `now` has reached its
// expiry. A manifest without check-in fields has no expiry to check.
Result<void> check_expiry(const Manifest& manifest, std::uint64_t now);

// kManifestNonceMismatch unless the manifest is a check-in answer carrying `nonce`:
// a release manifest without one could be replayed to any device at any time.
Result<void> check_nonce(const Manifest& manifest, std::uint64_t nonce);

// kManifestRollback when the security counter is below the device's stored one,
// whatever the signatures say.
Result<void> check_security_counter(const Manifest& manifest, std::uint32_t stored_counter);

// kManifestDowngrade when the version is lower than `installed` and the operator did
// not sign the allow-downgrade flag. (The counter check already refuses a lower counter.)
Result<void> check_version(const Manifest& manifest, const SemVer& installed);

// kManifestSourceMismatch when the manifest is a delta for another image than the
// one running (mix-and-match). A full image applies to any source.
Result<void> check_source(const Manifest& manifest, const Sha256Digest& running_image_hash);

// A threshold of `keys`' root keys signed `signed_root` (revoked and unknown keys
// do not count; a known root key whose signature fails is kSignatureInvalid at
// once). The codes of check_release_signatures(). A server checks a root it is
// given to start from with check_root_signatures(root, root, ...).
Result<void> check_root_signatures(const RootMetadata& signed_root, const RootMetadata& keys,
                                   SignatureVerifier& verifier);

// Root rotation, one version at a time (TUF 5.3): accepts `candidate` as the next
// root when its version is exactly trusted.version + 1 (kRootVersionRollback
// otherwise), a threshold of the trusted root's keys signed it (kRootRotationInvalid
// otherwise, or kSignatureInvalid / kSignatureMissing), and a threshold of its own
// root keys signed it (the codes of check_release_signatures()). A device walks v1,
// v2, v3... and keeps each accepted root; the expiry of an intermediate root is not
// checked, only that of the root it ends with (check_root_fresh()).
Result<void> verify_root_rotation(const RootMetadata& trusted, const RootMetadata& candidate,
                                  SignatureVerifier& verifier);

}  // namespace updraft::manifest
