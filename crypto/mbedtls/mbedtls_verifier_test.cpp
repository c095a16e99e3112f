// The device's mbedTLS verifier against the host's OpenSSL signer: what one signs,
// the other accepts, and every change to message, signature or key is refused with
// the code the interface promises. Plus the arena: too small fails cleanly at every
// size, and a signed manifest verifies end to end on P-256 keys.
#include "crypto/mbedtls/mbedtls_verifier.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>
#include <vector>

#include "crypto/host/openssl_verifier.h"
#include "crypto/host/signing_key.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft {
namespace {

using manifest::testing::keys;
using manifest::testing::must;
using manifest::testing::new_key;

constexpr SignatureAlgorithm kP256 = SignatureAlgorithm::kEcdsaP256Sha256;

ErrorCode code_of(const Result<void>& r) { return r.ok() ? ErrorCode::kOk : r.error(); }

std::vector<std::byte> random_bytes(std::mt19937& rng, std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::byte& b : out) b = static_cast<std::byte>(rng() & 0xFF);
  return out;
}

// A byte that differs from `b`.
std::byte flipped(std::byte b, std::mt19937& rng) {
  return b ^ static_cast<std::byte>(1 + rng() % 255);
}

class MbedTlsVerifierTest : public ::testing::Test {
 protected:
  Result<void> verify(const PublicKey& key, ByteView message, ByteView signature) {
    return verifier_.verify(key.algorithm, key.bytes, message, signature);
  }

  std::array<std::byte, MbedTlsVerifier::kArenaBytes> arena_{};
  MbedTlsVerifier verifier_{arena_};
};

TEST_F(MbedTlsVerifierTest, AcceptsWhatOpenSslSignsForRandomKeysAndMessages) {
  std::mt19937 rng(1);
  OpenSslVerifier openssl;
  for (int k = 0; k < 12; ++k) {
    const SigningKey key = new_key(kP256);
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{55}, std::size_t{64},
                             std::size_t{rng() % 2000}}) {
      const std::vector<std::byte> message = random_bytes(rng, size);
      const std::vector<std::byte> signature = must(key.sign(message));
      ASSERT_EQ(code_of(verify(key.public_key(), message, signature)), ErrorCode::kOk)
          << "key " << k << ", message of " << size << " B";
      // The two backends agree, so a device and the host tools judge alike.
      ASSERT_TRUE(openssl.verify(kP256, key.public_key().bytes, message, signature).ok());
    }
  }
}

TEST_F(MbedTlsVerifierTest, RefusesEveryChangedMessageByte) {
  std::mt19937 rng(2);
  const SigningKey& key = keys().release_b;
  const std::vector<std::byte> message = random_bytes(rng, 300);
  const std::vector<std::byte> signature = must(key.sign(message));
  for (std::size_t i = 0; i < message.size(); i += 7) {
    std::vector<std::byte> changed = message;
    changed[i] = flipped(changed[i], rng);
    ASSERT_EQ(code_of(verify(key.public_key(), changed, signature)), ErrorCode::kSignatureInvalid)
        << "byte " << i;
  }
  std::vector<std::byte> longer = message;
  longer.push_back(std::byte{0});
  EXPECT_EQ(code_of(verify(key.public_key(), longer, signature)), ErrorCode::kSignatureInvalid);
  EXPECT_EQ(code_of(verify(key.public_key(), ByteView(message).first(299), signature)),
            ErrorCode::kSignatureInvalid);
}

TEST_F(MbedTlsVerifierTest, RefusesEveryChangedSignatureByte) {
  std::mt19937 rng(3);
  const SigningKey& key = keys().release_b;
  const std::vector<std::byte> message = random_bytes(rng, 100);
  const std::vector<std::byte> signature = must(key.sign(message));
  for (std::size_t i = 0; i < signature.size(); ++i) {
    std::vector<std::byte> changed = signature;
    changed[i] = flipped(changed[i], rng);
    ASSERT_EQ(code_of(verify(key.public_key(), message, changed)), ErrorCode::kSignatureInvalid)
        << "byte " << i;
  }
}

TEST_F(MbedTlsVerifierTest, RefusesSignaturesWithROrSOutOfRange) {
  const SigningKey& key = keys().release_b;
  const std::vector<std::byte> message(10, std::byte{0x42});
  const std::vector<std::byte> good = must(key.sign(message));
  // r or s of 0, and of 2^256 - 1 (above the group order n), are never valid.
  for (std::size_t half : {std::size_t{0}, std::size_t{32}}) {
    for (std::byte fill : {std::byte{0x00}, std::byte{0xFF}}) {
      std::vector<std::byte> bad = good;
      std::fill(bad.begin() + static_cast<std::ptrdiff_t>(half),
                bad.begin() + static_cast<std::ptrdiff_t>(half + 32), fill);
      EXPECT_EQ(code_of(verify(key.public_key(), message, bad)), ErrorCode::kSignatureInvalid);
    }
  }
  // A signature of the wrong length never reaches the arithmetic.
  EXPECT_EQ(code_of(verify(key.public_key(), message, ByteView(good).first(63))),
            ErrorCode::kSignatureInvalid);
  std::vector<std::byte> longer = good;
  longer.push_back(std::byte{0});
  EXPECT_EQ(code_of(verify(key.public_key(), message, longer)), ErrorCode::kSignatureInvalid);
}

TEST_F(MbedTlsVerifierTest, RefusesSignaturesByAnotherKey) {
  std::mt19937 rng(4);
  for (int k = 0; k < 8; ++k) {
    const SigningKey signer = new_key(kP256);
    const SigningKey other = new_key(kP256);
    const std::vector<std::byte> message = random_bytes(rng, 1 + rng() % 500);
    const std::vector<std::byte> signature = must(signer.sign(message));
    ASSERT_EQ(code_of(verify(other.public_key(), message, signature)),
              ErrorCode::kSignatureInvalid);
  }
}

TEST_F(MbedTlsVerifierTest, RefusesKeysThatAreNotPointsOnTheCurve) {
  std::mt19937 rng(5);
  const SigningKey& key = keys().release_b;
  const std::vector<std::byte> message(32, std::byte{0x17});
  const std::vector<std::byte> signature = must(key.sign(message));
  const std::vector<std::byte>& good = key.public_key().bytes;
  std::vector<std::vector<std::byte>> bad_keys = {
      {},
      std::vector<std::byte>(good.begin(), good.begin() + 33),  // compressed form's length
      std::vector<std::byte>(good.begin(), good.end() - 1),
      std::vector<std::byte>(65, std::byte{0}),
      std::vector<std::byte>(65, std::byte{0xFF}),  // coordinates above the field prime
  };
  std::vector<std::byte> longer = good;
  longer.push_back(std::byte{0});
  bad_keys.push_back(longer);
  for (std::byte prefix : {std::byte{0x00}, std::byte{0x02}, std::byte{0x03}, std::byte{0x05}}) {
    std::vector<std::byte> k = good;
    k[0] = prefix;
    bad_keys.push_back(k);
  }
  // Any change to X or Y moves the point off the curve.
  for (std::size_t i = 1; i < good.size(); i += 4) {
    std::vector<std::byte> k = good;
    k[i] = flipped(k[i], rng);
    bad_keys.push_back(k);
  }
  for (std::size_t i = 0; i < bad_keys.size(); ++i) {
    ASSERT_EQ(code_of(verifier_.verify(kP256, bad_keys[i], message, signature)),
              ErrorCode::kSignatureInvalid)
        << "bad key " << i;
  }
}

TEST_F(MbedTlsVerifierTest, Ed25519AndUnknownAlgorithmsAreUnsupported) {
  // mbedTLS 2.28 has no EdDSA: a valid Ed25519 signature is not judged at all.
  const SigningKey& key = keys().release_a;
  ASSERT_EQ(key.algorithm(), SignatureAlgorithm::kEd25519);
  const std::vector<std::byte> message(20, std::byte{1});
  const std::vector<std::byte> signature = must(key.sign(message));
  EXPECT_EQ(code_of(verify(key.public_key(), message, signature)),
            ErrorCode::kSignatureAlgorithmUnsupported);
  EXPECT_EQ(code_of(verifier_.verify(static_cast<SignatureAlgorithm>(7),
                                     keys().release_b.public_key().bytes, message, signature)),
            ErrorCode::kSignatureAlgorithmUnsupported);
}

TEST_F(MbedTlsVerifierTest, LeavesTheArenaFreeForOtherUsesBetweenCalls) {
  // The agent lends its patch workspace: whatever the patcher left there, the next
  // verification starts afresh.
  std::mt19937 rng(6);
  const SigningKey& key = keys().release_b;
  for (int round = 0; round < 4; ++round) {
    const std::vector<std::byte> message = random_bytes(rng, 64);
    const std::vector<std::byte> signature = must(key.sign(message));
    for (std::byte& b : arena_) b = static_cast<std::byte>(rng() & 0xFF);
    ASSERT_EQ(code_of(verify(key.public_key(), message, signature)), ErrorCode::kOk);
  }
}

// Runs one verification in an arena of `size` bytes at the front of a larger
// buffer, and checks that nothing past the arena was touched.
ErrorCode verify_in_arena(std::size_t size, const PublicKey& key, ByteView message,
                          ByteView signature) {
  constexpr std::byte kGuard{0xA7};
  std::vector<std::byte> buffer(size + 256, kGuard);
  MbedTlsVerifier verifier(MutableByteView(buffer).first(size));
  const ErrorCode code = code_of(verifier.verify(key.algorithm, key.bytes, message, signature));
  for (std::size_t i = size; i < buffer.size(); ++i) {
    if (buffer[i] != kGuard) {
      ADD_FAILURE() << "arena of " << size << " B: byte " << i << " past it was written";
      break;
    }
  }
  return code;
}

TEST(MbedTlsVerifierArenaTest, TooSmallFailsCleanlyAtEverySizeAndEnoughWorks) {
  std::mt19937 rng(7);
  const SigningKey& key = keys().release_b;
  const std::vector<std::byte> message = random_bytes(rng, 200);
  const std::vector<std::byte> signature = must(key.sign(message));
  std::vector<std::byte> forged = signature;
  forged[5] = flipped(forged[5], rng);

  // For each signature, every size below the least that reaches a verdict fails with
  // kCryptoWorkspaceTooSmall, and every size from there on gives the verdict: running
  // out of arena is never mistaken for a verdict. The least differs between the two,
  // since the arithmetic, and so the memory, depends on the numbers.
  const auto least_for = [&](const std::vector<std::byte>& sig, ErrorCode verdict) {
    std::size_t least = 0;
    for (std::size_t size = 0; size <= MbedTlsVerifier::kArenaBytes; size += 4) {
      const ErrorCode code = verify_in_arena(size, key.public_key(), message, sig);
      if (least == 0 && code == verdict) least = size;
      if (least == 0) {
        EXPECT_EQ(code, ErrorCode::kCryptoWorkspaceTooSmall) << "arena of " << size << " B";
      } else {
        EXPECT_EQ(code, verdict) << "arena of " << size << " B, " << least << " worked";
      }
      if (::testing::Test::HasFailure()) break;
    }
    return least;
  };
  const std::size_t least = least_for(signature, ErrorCode::kOk);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_NE(least_for(forged, ErrorCode::kSignatureInvalid), 0u) << "kArenaBytes is not enough";
  ASSERT_NE(least, 0u) << "kArenaBytes is not enough";
  std::printf("least arena that verifies on this host: %zu B (kArenaBytes %zu)\n", least,
              MbedTlsVerifier::kArenaBytes);

  // Nothing of a failed verification lingers: the next one, with room, works.
  std::array<std::byte, MbedTlsVerifier::kArenaBytes> arena{};
  MbedTlsVerifier verifier(arena);
  EXPECT_EQ(code_of(verifier.verify(kP256, key.public_key().bytes, message, signature)),
            ErrorCode::kOk);
}

TEST(MbedTlsVerifierArenaTest, EnoughForAnySignatureOfRandomKeys) {
  // The arena needed varies a little with the numbers: check kArenaBytes against
  // many keys and messages, in an arena of exactly that size.
  std::mt19937 rng(8);
  for (int k = 0; k < 100; ++k) {
    const SigningKey key = new_key(kP256);
    const std::vector<std::byte> message = random_bytes(rng, rng() % 100);
    ASSERT_EQ(verify_in_arena(MbedTlsVerifier::kArenaBytes, key.public_key(), message,
                              must(key.sign(message))),
              ErrorCode::kOk)
        << "key " << k;
  }
}

// --- A whole manifest, as a device with mbedTLS checks it.

class MbedTlsManifestTest : public ::testing::Test {
 protected:
  // Root v1 with P-256 keys only: root key c signs, release key b signs releases.
  static std::vector<std::byte> p256_root() {
    manifest::RootSpec spec = manifest::testing::root_v1_spec();
    spec.root_keys = manifest::testing::public_keys({&keys().root_c});
    spec.release_keys = manifest::testing::public_keys({&keys().release_b});
    return manifest::testing::sign_root(spec, {&keys().root_c});
  }

  ErrorCode device_accepts(const std::vector<std::byte>& manifest_bytes,
                           const std::vector<std::byte>& root_bytes) {
    const manifest::RootMetadata root = must(manifest::parse_root(root_bytes));
    const manifest::Manifest parsed = must(manifest::parse_manifest(manifest_bytes));
    const manifest::testing::Device device;
    manifest::DeviceState state;
    state.product = device.product;
    state.hardware = device.hardware;
    state.security_counter = device.counter;
    state.installed_version = must(manifest::parse_semver(device.installed));
    state.running_image_hash = device.running;
    return code_of(manifest::verify_manifest(parsed, root, verifier_, state,
                                             manifest::CheckIn{device.now, device.nonce}));
  }

  std::array<std::byte, MbedTlsVerifier::kArenaBytes> arena_{};
  MbedTlsVerifier verifier_{arena_};
};

TEST_F(MbedTlsManifestTest, VerifiesAnswersSignedWithP256Keys) {
  const std::vector<std::byte> root = p256_root();
  EXPECT_EQ(device_accepts(manifest::testing::sign_manifest(manifest::testing::answer_spec(),
                                                            {&keys().release_b}),
                           root),
            ErrorCode::kOk);
  EXPECT_EQ(device_accepts(manifest::testing::sign_manifest(manifest::testing::delta_answer_spec(),
                                                            {&keys().release_b}),
                           root),
            ErrorCode::kOk);
}

TEST_F(MbedTlsManifestTest, RefusesATamperedAnswer) {
  std::vector<std::byte> bytes =
      manifest::testing::sign_manifest(manifest::testing::answer_spec(), {&keys().release_b});
  manifest::ManifestSpec forged = manifest::testing::answer_spec();
  forged.image_hash[0] ^= std::byte{1};
  const std::vector<std::byte> region = must(manifest::encode_manifest(forged));
  std::copy(region.begin(), region.end(), bytes.begin());  // keeps the old signature
  EXPECT_EQ(device_accepts(bytes, p256_root()), ErrorCode::kSignatureInvalid);
}

TEST_F(MbedTlsManifestTest, Ed25519ReleaseKeysAreUnsupportedOnThisDevice) {
  EXPECT_EQ(device_accepts(manifest::testing::sign_manifest(manifest::testing::answer_spec(),
                                                            {&keys().release_a}),
                           manifest::testing::root_v1()),
            ErrorCode::kSignatureAlgorithmUnsupported);
}

TEST_F(MbedTlsManifestTest, RotatesToTheNextP256Root) {
  manifest::RootSpec next = manifest::testing::root_v1_spec();
  next.version = 2;
  next.root_keys = manifest::testing::public_keys({&keys().root_c});
  next.release_keys = manifest::testing::public_keys({&keys().release_b});
  // Parsed metadata points into its bytes, which must outlive it.
  const std::vector<std::byte> trusted_bytes = p256_root();
  const std::vector<std::byte> candidate_bytes =
      manifest::testing::sign_root(next, {&keys().root_c});
  const manifest::RootMetadata trusted = must(manifest::parse_root(trusted_bytes));
  const manifest::RootMetadata candidate = must(manifest::parse_root(candidate_bytes));
  EXPECT_EQ(code_of(manifest::verify_root_rotation(trusted, candidate, verifier_)), ErrorCode::kOk);
}

}  // namespace
}  // namespace updraft
