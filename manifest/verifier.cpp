#include "manifest/verifier.h"

#include "crypto/constant_time.h"

namespace updraft::manifest {
namespace {

struct Tally {
  std::size_t valid = 0;       // verified signatures by distinct keys of the role
  std::size_t revoked = 0;     // signatures by revoked keys (never verified)
  std::size_t other_role = 0;  // signatures by keys the root holds for another role
};

// Verifies the signatures made by keys of `role`. The envelope parser has already
// refused two signatures with one key id, so each valid one is a distinct key.
Result<Tally> tally(ByteView message, const SignatureList& signatures, const KeySet& role,
                    const KeySet& other_role, const RootMetadata& revocations,
                    SignatureVerifier& verifier) {
  Tally t;
  for (const SignatureEntry& s : signatures.view()) {
    if (revocations.is_revoked(s.key_id)) {
      ++t.revoked;
      continue;
    }
    const KeyEntry* key = role.find(s.key_id);
    if (key == nullptr) {
      if (other_role.find(s.key_id) != nullptr) ++t.other_role;
      continue;
    }
    // A key this root trusts signed something that does not verify: the signed
    // bytes or the signature were changed. Refuse outright rather than hope other
    // signatures make up the threshold.
    if (s.algorithm != key->algorithm) return ErrorCode::kSignatureInvalid;
    UPDRAFT_TRY(verifier.verify(key->algorithm, key->public_key, message, s.signature));
    ++t.valid;
  }
  return t;
}

Result<void> require_threshold(const Tally& t, std::uint8_t threshold,
                               std::size_t signature_count) {
  if (t.valid >= threshold) return ok_result();
  if (signature_count == 0) return ErrorCode::kSignatureMissing;
  if (t.revoked > 0) return ErrorCode::kSignatureKeyRevoked;
  if (t.other_role > 0) return ErrorCode::kSignatureKeyNotAuthorized;
  if (t.valid > 0) return ErrorCode::kSignatureThresholdNotMet;
  return ErrorCode::kSignatureUnknownKey;
}

}  // namespace

Result<void> check_root_signatures(const RootMetadata& signed_root, const RootMetadata& keys,
                                   SignatureVerifier& verifier) {
  UPDRAFT_TRY_ASSIGN(const Tally t, tally(signed_root.signed_region, signed_root.signatures,
                                          keys.root_keys, keys.release_keys, keys, verifier));
  return require_threshold(t, keys.root_keys.threshold, signed_root.signatures.count);
}

Result<void> check_root_fresh(const RootMetadata& root, std::uint64_t now) {
  if (root.expires != 0 && now >= root.expires) return ErrorCode::kRootExpired;
  return ok_result();
}

Result<void> check_release_signatures(const Manifest& manifest, const RootMetadata& root,
                                      SignatureVerifier& verifier) {
  UPDRAFT_TRY_ASSIGN(const Tally t, tally(manifest.signed_region, manifest.signatures,
                                          root.release_keys, root.root_keys, root, verifier));
  return require_threshold(t, root.release_keys.threshold, manifest.signatures.count);
}

Result<void> check_product(const Manifest& manifest, std::string_view product) {
  if (manifest.product != product) return ErrorCode::kManifestWrongProduct;
  return ok_result();
}

Result<void> check_hardware(const Manifest& manifest, std::string_view hardware) {
  for (std::size_t i = 0; i < manifest.hardware_count; ++i) {
    if (manifest.hardware[i] == hardware) return ok_result();
  }
  return ErrorCode::kManifestWrongHardware;
}

Result<void> check_expiry(const Manifest& manifest, std::uint64_t now) {
  if (manifest.is_check_in && now >= manifest.freshness.expires) return ErrorCode::kManifestExpired;
  return ok_result();
}

Result<void> check_nonce(const Manifest& manifest, std::uint64_t nonce) {
  if (!manifest.is_check_in || manifest.freshness.nonce != nonce)
    return ErrorCode::kManifestNonceMismatch;
  return ok_result();
}

Result<void> check_security_counter(const Manifest& manifest, std::uint32_t stored_counter) {
  if (manifest.security_counter < stored_counter) return ErrorCode::kManifestRollback;
  return ok_result();
}

Result<void> check_version(const Manifest& manifest, const SemVer& installed) {
  if (compare(manifest.version, installed) < 0 && !manifest.allow_downgrade)
    return ErrorCode::kManifestDowngrade;
  return ok_result();
}

Result<void> check_source(const Manifest& manifest, const Sha256Digest& running_image_hash) {
  if (manifest.is_delta && !constant_time_equal(manifest.delta.source_hash, running_image_hash)) {
    return ErrorCode::kManifestSourceMismatch;
  }
  return ok_result();
}

Result<void> verify_manifest(const Manifest& manifest, const RootMetadata& trusted_root,
                             SignatureVerifier& verifier, const DeviceState& device,
                             const CheckIn& check_in) {
  UPDRAFT_TRY(check_root_fresh(trusted_root, check_in.now));
  UPDRAFT_TRY(check_release_signatures(manifest, trusted_root, verifier));
  UPDRAFT_TRY(check_product(manifest, device.product));
  UPDRAFT_TRY(check_hardware(manifest, device.hardware));
  UPDRAFT_TRY(check_expiry(manifest, check_in.now));
  if (!check_in.local) UPDRAFT_TRY(check_nonce(manifest, check_in.nonce));
  UPDRAFT_TRY(check_security_counter(manifest, device.security_counter));
  UPDRAFT_TRY(check_version(manifest, device.installed_version));
  UPDRAFT_TRY(check_source(manifest, device.running_image_hash));
  return ok_result();
}

Result<void> verify_root_rotation(const RootMetadata& trusted, const RootMetadata& candidate,
                                  SignatureVerifier& verifier) {
  // Checked before any signature: refusing a stale root costs no crypto, and an
  // old root, however well signed, must never replace a newer one.
  if (trusted.version == 0xFFFFFFFFu || candidate.version != trusted.version + 1) {
    return ErrorCode::kRootVersionRollback;
  }
  if (Result<void> by_trusted = check_root_signatures(candidate, trusted, verifier);
      !by_trusted.ok()) {
    const ErrorCode e = by_trusted.error();
    // Tampering and absence keep their own codes; anything else means the keys the
    // device trusts did not approve this rotation.
    if (e == ErrorCode::kSignatureInvalid || e == ErrorCode::kSignatureMissing ||
        e == ErrorCode::kSignatureAlgorithmUnsupported) {
      return e;
    }
    return ErrorCode::kRootRotationInvalid;
  }
  return check_root_signatures(candidate, candidate, verifier);
}

}  // namespace updraft::manifest
