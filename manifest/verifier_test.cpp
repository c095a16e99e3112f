// One test per attack in The Update Framework's threat model, each refused with its
// own error number, plus the checks around them (order, downgrade, root rotation).
#include "manifest/verifier.h"

#include <gtest/gtest.h>

#include "manifest/artifact_verifier.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::manifest {
namespace {

using testing::answer_spec;
using testing::delta_answer_spec;
using testing::Device;
using testing::device_accepts;
using testing::device_rotates;
using testing::keys;
using testing::root_v1;
using testing::root_v1_spec;
using testing::sign_manifest;
using testing::sign_root;

ErrorCode code_of(const Result<void>& r) { return r.ok() ? ErrorCode::kOk : r.error(); }

std::vector<std::byte> answer(const ManifestSpec& spec = answer_spec()) {
  return sign_manifest(spec, {&keys().release_a});
}

TEST(VerifierTest, AcceptsValidAnswerForThisDevice) {
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1())), ErrorCode::kOk);
  EXPECT_EQ(code_of(device_accepts(answer(delta_answer_spec()), root_v1())), ErrorCode::kOk);
}

TEST(VerifierTest, AcceptsP256ReleaseKeyAndP256RootKey) {
  RootSpec spec = root_v1_spec();
  spec.root_keys.push_back(keys().root_c.public_key());
  spec.release_keys = testing::public_keys({&keys().release_b});
  const std::vector<std::byte> root = sign_root(spec, {&keys().root_c});
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().release_b}), root)),
            ErrorCode::kOk);
}

// --- Arbitrary software: only what a release key signed installs.

TEST(VerifierTest, ArbitrarySoftwareWithAlteredContentFailsSignature) {
  ManifestSpec forged = answer_spec();
  forged.image_hash[0] ^= std::byte{1};  // the attacker's image
  std::vector<std::byte> bytes = answer();
  const std::vector<std::byte> forged_region = testing::must(encode_manifest(forged));
  std::copy(forged_region.begin(), forged_region.end(), bytes.begin());  // keep the old signature
  EXPECT_EQ(code_of(device_accepts(bytes, root_v1())), ErrorCode::kSignatureInvalid);
}

TEST(VerifierTest, ArbitrarySoftwareWithoutSignatureIsRefused) {
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {}), root_v1())),
            ErrorCode::kSignatureMissing);
}

TEST(VerifierTest, ArbitrarySoftwareSignedByUnknownKeyIsRefused) {
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().stranger}), root_v1())),
            ErrorCode::kSignatureUnknownKey);
}

TEST(VerifierTest, ManifestSignedByRootKeyIsNotAuthorizedForReleases) {
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().root_a}), root_v1())),
            ErrorCode::kSignatureKeyNotAuthorized);
}

TEST(VerifierTest, SignaturesAreCheckedBeforeAnythingElse) {
  // A forged manifest for another product still reports the signature, not the product.
  Device other;
  other.product = "other-product";
  EXPECT_EQ(
      code_of(device_accepts(sign_manifest(answer_spec(), {&keys().stranger}), root_v1(), other)),
      ErrorCode::kSignatureUnknownKey);
}

TEST(VerifierTest, UnknownExtraSignatureIsIgnoredWhenThresholdIsMet) {
  // During a key rollover a release is signed by old and new keys; a device on either root installs
  // it.
  EXPECT_EQ(code_of(device_accepts(
                sign_manifest(answer_spec(), {&keys().stranger, &keys().release_a}), root_v1())),
            ErrorCode::kOk);
}

// --- Wrong hardware or product.

TEST(VerifierTest, WrongHardwareIsRefused) {
  Device device;
  device.hardware = "board-rev-a";
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)),
            ErrorCode::kManifestWrongHardware);
}

TEST(VerifierTest, WrongProductIsRefused) {
  Device device;
  device.product = "acme-doorbell";
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestWrongProduct);
}

// --- Rollback: the security counter is the floor, whatever the signature.

TEST(VerifierTest, RollbackToLowerSecurityCounterIsRefusedDespiteValidSignature) {
  Device device;
  device.counter = 6;
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestRollback);
}

TEST(VerifierTest, LowerVersionWithEqualCounterNeedsAllowDowngrade) {
  Device device;
  device.installed = "2.2.0";
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestDowngrade);

  ManifestSpec allowed = answer_spec();
  allowed.allow_downgrade = true;
  EXPECT_EQ(code_of(device_accepts(answer(allowed), root_v1(), device)), ErrorCode::kOk);
}

TEST(VerifierTest, AllowDowngradeDoesNotOverrideSecurityCounter) {
  ManifestSpec spec = answer_spec();
  spec.allow_downgrade = true;
  Device device;
  device.installed = "2.2.0";
  device.counter = 6;
  EXPECT_EQ(code_of(device_accepts(answer(spec), root_v1(), device)), ErrorCode::kManifestRollback);
}

TEST(VerifierTest, VersionsCompareBySemverPrecedence) {
  Device device;
  device.installed = "2.1.0-rc.2";  // 2.1.0 is newer than its release candidate
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kOk);
  device.installed = "2.1.0";  // reinstalling the same version is not a downgrade
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kOk);
  device.installed = "2.1.1-alpha";
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestDowngrade);
  device.installed = "2.0.10";  // numeric, not text, comparison: 2.1.0 is newer
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kOk);
}

// --- Freeze: an answer is good for a short time only.

TEST(VerifierTest, FreezeWithExpiredAnswerIsRefused) {
  Device device;
  device.now = answer_spec().check_in->expires;  // valid while now < expires
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestExpired);
  device.now += 86400;
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kManifestExpired);
  device.now = answer_spec().check_in->expires - 1;
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kOk);
}

TEST(VerifierTest, FreezeWithExpiredRootIsRefused) {
  RootSpec spec = root_v1_spec();
  spec.expires = testing::kNow;
  EXPECT_EQ(code_of(device_accepts(answer(), sign_root(spec, {&keys().root_a}))),
            ErrorCode::kRootExpired);
}

// --- Replay: an answer belongs to one check-in.

TEST(VerifierTest, ReplayWithOldNonceIsRefused) {
  Device device;
  device.nonce = testing::kNonce + 1;  // this check-in's nonce; the answer echoes an older one
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)),
            ErrorCode::kManifestNonceMismatch);
}

TEST(VerifierTest, ReplayOfReleaseManifestWithoutNonceIsRefused) {
  ManifestSpec spec = answer_spec();
  spec.check_in.reset();
  EXPECT_EQ(code_of(device_accepts(answer(spec), root_v1())), ErrorCode::kManifestNonceMismatch);
}

// --- Mix-and-match: a delta only applies to the image it was made from.

TEST(VerifierTest, MixAndMatchDeltaForOtherSourceImageIsRefused) {
  Device device;
  device.running = Sha256::digest(testing::image_v2());  // not the delta's source
  EXPECT_EQ(code_of(device_accepts(answer(delta_answer_spec()), root_v1(), device)),
            ErrorCode::kManifestSourceMismatch);
  // The full image of the same release has no source to match.
  EXPECT_EQ(code_of(device_accepts(answer(), root_v1(), device)), ErrorCode::kOk);
}

// --- Endless data: the download stops at the declared size.

TEST(VerifierTest, EndlessDataPastDeclaredSizeIsRefused) {
  const std::vector<std::byte> bytes = answer(delta_answer_spec());
  const Manifest manifest = testing::must(parse_manifest(bytes));
  for (const ArtifactKind kind : {ArtifactKind::kPatch, ArtifactKind::kFullImage}) {
    ArtifactVerifier artifact;
    ASSERT_TRUE(artifact.start(manifest, kind).ok());
    const std::vector<std::byte>& content =
        kind == ArtifactKind::kPatch ? testing::patch_v1_to_v2() : testing::image_v2();
    ASSERT_EQ(artifact.declared_size(), content.size());
    ASSERT_TRUE(artifact.update(content).ok());
    const std::byte one_more{0};
    EXPECT_EQ(code_of(artifact.update(ByteView(&one_more, 1))), ErrorCode::kArtifactTooLarge);
    EXPECT_TRUE(artifact.finish().ok());  // the declared bytes themselves are good
  }
}

// --- Key compromise below threshold: one stolen key is not enough.

TEST(VerifierTest, KeyCompromiseBelowReleaseThresholdIsRefused) {
  RootSpec spec = root_v1_spec();
  spec.release_keys = testing::public_keys({&keys().release_a, &keys().release_b});
  spec.release_threshold = 2;
  const std::vector<std::byte> root = sign_root(spec, {&keys().root_a});
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().release_a}), root)),
            ErrorCode::kSignatureThresholdNotMet);
  EXPECT_EQ(code_of(device_accepts(
                sign_manifest(answer_spec(), {&keys().release_b, &keys().release_a}), root)),
            ErrorCode::kOk);
}

TEST(VerifierTest, KeyCompromiseBelowRootThresholdCannotRotateRoot) {
  RootSpec v1 = root_v1_spec();
  v1.root_threshold = 2;
  const std::vector<std::byte> trusted = sign_root(v1, {&keys().root_a, &keys().root_b});
  // The thief of root key a makes a root that trusts the thief's release key.
  RootSpec evil = v1;
  evil.version = 2;
  evil.root_threshold = 1;
  evil.release_keys = testing::public_keys({&keys().stranger});
  EXPECT_EQ(code_of(device_rotates(trusted, sign_root(evil, {&keys().root_a}))),
            ErrorCode::kRootRotationInvalid);
}

TEST(VerifierTest, SignatureByKnownKeyThatDoesNotVerifyIsRefusedEvenAboveThreshold) {
  std::vector<std::byte> bytes =
      sign_manifest(answer_spec(), {&keys().release_a, &keys().stranger});
  // Spoil release_a's signature (the first entry); the stranger's does not count anyway.
  const std::size_t first_signature =
      testing::must(encode_manifest(answer_spec())).size() + 1 + kKeyIdSize + 1;
  bytes[first_signature] ^= std::byte{0x40};
  EXPECT_EQ(code_of(device_accepts(bytes, root_v1())), ErrorCode::kSignatureInvalid);
}

// --- Revoked key.

TEST(VerifierTest, ManifestSignedByRevokedKeyIsRefused) {
  RootSpec v2 = root_v1_spec();
  v2.version = 2;
  v2.release_keys = testing::public_keys({&keys().release_c});
  v2.revoked = {key_id_of(keys().release_a.public_key())};
  const std::vector<std::byte> root = sign_root(v2, {&keys().root_a});
  EXPECT_EQ(code_of(device_accepts(answer(), root)), ErrorCode::kSignatureKeyRevoked);
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().release_c}), root)),
            ErrorCode::kOk);
}

// --- Root rotation.

RootSpec root_v2_spec() {
  // v2 replaces both root keys with c and d (threshold 2) and release key a with c.
  RootSpec v2;
  v2.version = 2;
  v2.root_threshold = 2;
  v2.root_keys = testing::public_keys({&keys().root_c, &keys().root_d});
  v2.release_keys = testing::public_keys({&keys().release_c});
  return v2;
}

TEST(VerifierTest, RootRotationSignedByOldAndNewThresholdsIsAccepted) {
  const std::vector<std::byte> v2 =
      sign_root(root_v2_spec(), {&keys().root_a, &keys().root_c, &keys().root_d});
  EXPECT_EQ(code_of(device_rotates(root_v1(), v2)), ErrorCode::kOk);
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&keys().release_c}), v2)),
            ErrorCode::kOk);
}

TEST(VerifierTest, RootRotationSignedOnlyByNewKeysIsRefused) {
  const std::vector<std::byte> v2 = sign_root(root_v2_spec(), {&keys().root_c, &keys().root_d});
  EXPECT_EQ(code_of(device_rotates(root_v1(), v2)), ErrorCode::kRootRotationInvalid);
}

TEST(VerifierTest, RootRotationBelowOldThresholdIsRefused) {
  RootSpec v1 = root_v1_spec();
  v1.root_threshold = 2;
  const std::vector<std::byte> trusted = sign_root(v1, {&keys().root_a, &keys().root_b});
  const std::vector<std::byte> v2 = sign_root(
      root_v2_spec(), {&keys().root_a, &keys().root_c, &keys().root_d});  // a alone of a, b
  EXPECT_EQ(code_of(device_rotates(trusted, v2)), ErrorCode::kRootRotationInvalid);
}

TEST(VerifierTest, RootRotationBelowItsOwnThresholdIsRefused) {
  const std::vector<std::byte> v2 =
      sign_root(root_v2_spec(), {&keys().root_a, &keys().root_c});  // c alone of c, d
  EXPECT_EQ(code_of(device_rotates(root_v1(), v2)), ErrorCode::kSignatureThresholdNotMet);
}

TEST(VerifierTest, RootVersionMustBeExactlyOneAbove) {
  RootSpec same = root_v1_spec();
  EXPECT_EQ(code_of(device_rotates(root_v1(), sign_root(same, {&keys().root_a}))),
            ErrorCode::kRootVersionRollback);
  RootSpec skip = root_v1_spec();
  skip.version = 3;
  EXPECT_EQ(code_of(device_rotates(root_v1(), sign_root(skip, {&keys().root_a}))),
            ErrorCode::kRootVersionRollback);
  // A device holding v2 is offered v1 again.
  const std::vector<std::byte> v2 =
      sign_root(root_v2_spec(), {&keys().root_a, &keys().root_c, &keys().root_d});
  EXPECT_EQ(code_of(device_rotates(v2, root_v1())), ErrorCode::kRootVersionRollback);
}

TEST(VerifierTest, AfterRotationOldRootKeysNoLongerCount) {
  const std::vector<std::byte> v2 =
      sign_root(root_v2_spec(), {&keys().root_a, &keys().root_c, &keys().root_d});
  // Old root keys a and b make a v3 that brings back release key a.
  RootSpec v3 = root_v1_spec();
  v3.version = 3;
  EXPECT_EQ(code_of(device_rotates(v2, sign_root(v3, {&keys().root_a, &keys().root_b}))),
            ErrorCode::kRootRotationInvalid);
  // And release key a, dropped by v2, no longer signs for the device.
  EXPECT_EQ(code_of(device_accepts(answer(), v2)), ErrorCode::kSignatureUnknownKey);
  // The new keys rotate on: v3 signed by c and d is accepted.
  RootSpec v3_good = root_v2_spec();
  v3_good.version = 3;
  EXPECT_EQ(code_of(device_rotates(v2, sign_root(v3_good, {&keys().root_c, &keys().root_d}))),
            ErrorCode::kOk);
}

TEST(VerifierTest, RootSignedOnlyByReleaseKeyIsRefused) {
  RootSpec v2 = root_v1_spec();
  v2.version = 2;
  EXPECT_EQ(code_of(device_rotates(root_v1(), sign_root(v2, {&keys().root_a, &keys().release_a}))),
            ErrorCode::kOk);
  // Only the release key: the trusted root's keys never approved it.
  EXPECT_EQ(code_of(device_rotates(root_v1(), sign_root(v2, {&keys().release_a}))),
            ErrorCode::kRootRotationInvalid);
}

// --- RSA-PSS keys (MCUboot's and AliOS's RSA-2048/3072 with PSS).

TEST(VerifierTest, AcceptsRsaPssReleaseKeysUnderAnRsaRootKey) {
  const testing::RsaKeys& rsa = testing::rsa_keys();
  RootSpec spec = root_v1_spec();
  spec.root_keys = testing::public_keys({&rsa.root});
  spec.release_keys = testing::public_keys({&rsa.release, &rsa.release_3072});
  spec.release_threshold = 2;
  const std::vector<std::byte> root = sign_root(spec, {&rsa.root});
  const std::vector<std::byte> both =
      sign_manifest(answer_spec(), {&rsa.release, &rsa.release_3072});
  EXPECT_EQ(code_of(device_accepts(both, root)), ErrorCode::kOk);
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&rsa.release}), root)),
            ErrorCode::kSignatureThresholdNotMet);
  std::vector<std::byte> altered = both;
  altered[12] ^= std::byte{0x01};  // in the product name
  EXPECT_EQ(code_of(device_accepts(altered, root)), ErrorCode::kSignatureInvalid);
  // A root key does not sign releases, whatever its algorithm.
  EXPECT_EQ(code_of(device_accepts(sign_manifest(answer_spec(), {&rsa.root}), root)),
            ErrorCode::kSignatureKeyNotAuthorized);
}

TEST(VerifierTest, RotationToRsaKeysAuthorizesTheNewReleaseKeyAndRevokesTheOld) {
  const testing::RsaKeys& rsa = testing::rsa_keys();
  RootSpec v2;
  v2.version = 2;
  v2.root_keys = testing::public_keys({&rsa.root});
  v2.release_keys = testing::public_keys({&rsa.release});
  v2.revoked = {key_id_of(keys().release_a.public_key())};
  const std::vector<std::byte> rotated = sign_root(v2, {&keys().root_a, &rsa.root});
  ASSERT_EQ(code_of(device_rotates(root_v1(), rotated)), ErrorCode::kOk);
  // Before the rotation the RSA release key is unknown; after it, it signs.
  const std::vector<std::byte> by_rsa = sign_manifest(answer_spec(), {&rsa.release});
  EXPECT_EQ(code_of(device_accepts(by_rsa, root_v1())), ErrorCode::kSignatureUnknownKey);
  EXPECT_EQ(code_of(device_accepts(by_rsa, rotated)), ErrorCode::kOk);
  // The old release key is revoked by v2.
  EXPECT_EQ(code_of(device_accepts(answer(), rotated)), ErrorCode::kSignatureKeyRevoked);
  // The RSA root key alone cannot rotate v1: v1's keys never approved it.
  EXPECT_EQ(code_of(device_rotates(root_v1(), sign_root(v2, {&rsa.root}))),
            ErrorCode::kRootRotationInvalid);
}

}  // namespace
}  // namespace updraft::manifest
