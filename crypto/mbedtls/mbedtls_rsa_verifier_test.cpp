// The device's mbedTLS RSA-PSS verifier against the host's OpenSSL signer: what one
// signs the other accepts, for random messages and both key sizes; a changed
// message, signature or key is refused; another salt length or PKCS#1 v1.5 is
// refused; P-256 still verifies through the same object; and the arena: too small
// fails cleanly, never with a verdict, and kArenaBytes is enough.
#include "crypto/mbedtls/mbedtls_rsa_verifier.h"

#include <gtest/gtest.h>

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
using manifest::testing::rsa_keys;

constexpr SignatureAlgorithm kRsa2048 = SignatureAlgorithm::kRsa2048PssSha256;
constexpr SignatureAlgorithm kRsa3072 = SignatureAlgorithm::kRsa3072PssSha256;

ErrorCode code_of(const Result<void>& r) { return r.ok() ? ErrorCode::kOk : r.error(); }

std::vector<std::byte> random_bytes(std::mt19937& rng, std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::byte& b : out) b = static_cast<std::byte>(rng() & 0xFF);
  return out;
}

std::byte flipped(std::byte b, std::mt19937& rng) {
  return b ^ static_cast<std::byte>(1 + rng() % 255);
}

// Runs one verification in an arena of `size` bytes at the front of a larger
// buffer, and checks that nothing past the arena was touched.
ErrorCode verify_in_arena(std::size_t size, const PublicKey& key, ByteView message,
                          ByteView signature) {
  constexpr std::byte kGuard{0xA7};
  std::vector<std::byte> buffer(size + 256, kGuard);
  MbedTlsRsaVerifier verifier(MutableByteView(buffer).first(size));
  const ErrorCode code = code_of(verifier.verify(key.algorithm, key.bytes, message, signature));
  for (std::size_t i = size; i < buffer.size(); ++i) {
    if (buffer[i] != kGuard) {
      ADD_FAILURE() << "arena of " << size << " B: byte " << i << " past it was written";
      break;
    }
  }
  return code;
}

class MbedTlsRsaVerifierTest : public ::testing::Test {
 protected:
  ErrorCode verify(const PublicKey& key, ByteView message, ByteView signature) {
    return code_of(verifier_.verify(key.algorithm, key.bytes, message, signature));
  }

  std::vector<std::byte> arena_ = std::vector<std::byte>(MbedTlsRsaVerifier::kArenaBytes);
  MbedTlsRsaVerifier verifier_{arena_};
};

TEST_F(MbedTlsRsaVerifierTest, AcceptsWhatOpenSslSignsAndRefusesAnyChange) {
  std::mt19937 rng(11);
  OpenSslVerifier openssl;
  for (const SigningKey* key : {&rsa_keys().release, &rsa_keys().release_3072}) {
    for (int i = 0; i < 25; ++i) {
      SCOPED_TRACE(std::string(algorithm_name(key->algorithm())) + " message " + std::to_string(i));
      const std::vector<std::byte> message = random_bytes(rng, rng() % 1500);
      const std::vector<std::byte> signature = must(key->sign(message));
      ASSERT_EQ(verify(key->public_key(), message, signature), ErrorCode::kOk);
      // Both backends judge alike.
      ASSERT_TRUE(
          openssl.verify(key->algorithm(), key->public_key().bytes, message, signature).ok());

      std::vector<std::byte> bad_signature = signature;
      const std::size_t at = rng() % bad_signature.size();
      bad_signature[at] = flipped(bad_signature[at], rng);
      EXPECT_EQ(verify(key->public_key(), message, bad_signature), ErrorCode::kSignatureInvalid)
          << "signature byte " << at;
      std::vector<std::byte> bad_message = message;
      bad_message.push_back(std::byte{0});
      if (message.size() > 0) {
        const std::size_t m = rng() % message.size();
        bad_message = message;
        bad_message[m] = flipped(bad_message[m], rng);
      }
      EXPECT_EQ(verify(key->public_key(), bad_message, signature), ErrorCode::kSignatureInvalid);
      PublicKey bad_key = key->public_key();
      const std::size_t k = 1 + rng() % (bad_key.bytes.size() - 2);
      bad_key.bytes[k] = flipped(bad_key.bytes[k], rng);
      EXPECT_EQ(verify(bad_key, message, signature), ErrorCode::kSignatureInvalid)
          << "key byte " << k;
    }
  }
}

TEST_F(MbedTlsRsaVerifierTest, RefusesSignaturesByAnotherKeyAndKeysOfTheWrongForm) {
  const std::vector<std::byte> message(100, std::byte{0x42});
  const std::vector<std::byte> by_root = must(rsa_keys().root.sign(message));  // RSA-3072
  EXPECT_EQ(verify(rsa_keys().release_3072.public_key(), message, by_root),
            ErrorCode::kSignatureInvalid);
  PublicKey short_modulus = rsa_keys().root.public_key();
  short_modulus.bytes[0] &= std::byte{0x7F};
  EXPECT_EQ(verify(short_modulus, message, by_root), ErrorCode::kSignatureInvalid);
  PublicKey even = rsa_keys().root.public_key();
  even.bytes.back() &= std::byte{0xFE};
  EXPECT_EQ(verify(even, message, by_root), ErrorCode::kSignatureInvalid);
  // A 3072-bit key and signature claimed as RSA-2048: sizes disagree.
  EXPECT_EQ(
      code_of(verifier_.verify(kRsa2048, rsa_keys().root.public_key().bytes, message, by_root)),
      ErrorCode::kSignatureInvalid);
  const std::vector<std::byte> short_signature(by_root.begin(), by_root.end() - 1);
  EXPECT_EQ(verify(rsa_keys().root.public_key(), message, short_signature),
            ErrorCode::kSignatureInvalid);
}

TEST_F(MbedTlsRsaVerifierTest, P256StillVerifiesAndEd25519IsUnsupported) {
  const std::vector<std::byte> message(64, std::byte{7});
  const SigningKey& p256 = keys().release_b;
  EXPECT_EQ(verify(p256.public_key(), message, must(p256.sign(message))), ErrorCode::kOk);
  const SigningKey& ed = keys().release_a;
  EXPECT_EQ(verify(ed.public_key(), message, must(ed.sign(message))),
            ErrorCode::kSignatureAlgorithmUnsupported);
}

TEST(MbedTlsRsaVerifierArenaTest, TooSmallFailsCleanlyAndKArenaBytesIsEnough) {
  std::mt19937 rng(12);
  for (const SigningKey* key : {&rsa_keys().release, &rsa_keys().root}) {
    const std::vector<std::byte> message = random_bytes(rng, 200);
    const std::vector<std::byte> signature = must(key->sign(message));
    std::vector<std::byte> forged = signature;
    forged[5] = flipped(forged[5], rng);
    // Below the least that works, a good signature and a forged one both fail
    // with kCryptoWorkspaceTooSmall; from there on the verdict is the right one.
    std::size_t least = 0;
    for (std::size_t size = 0; size <= MbedTlsRsaVerifier::kArenaBytes; size += 4) {
      const ErrorCode code = verify_in_arena(size, key->public_key(), message, signature);
      if (least == 0 && code == ErrorCode::kOk) least = size;
      if (least == 0) {
        ASSERT_EQ(code, ErrorCode::kCryptoWorkspaceTooSmall) << "arena of " << size << " B";
        ASSERT_EQ(verify_in_arena(size, key->public_key(), message, forged),
                  ErrorCode::kCryptoWorkspaceTooSmall)
            << "arena of " << size << " B";
      } else {
        ASSERT_EQ(code, ErrorCode::kOk) << "arena of " << size << " B, " << least << " worked";
        ASSERT_EQ(verify_in_arena(size, key->public_key(), message, forged),
                  ErrorCode::kSignatureInvalid)
            << "arena of " << size << " B";
      }
    }
    ASSERT_NE(least, 0u) << "kArenaBytes is not enough for " << algorithm_name(key->algorithm());
    std::printf("least arena for %s on this host: %zu B (kArenaBytes %zu)\n",
                std::string(algorithm_name(key->algorithm())).c_str(), least,
                MbedTlsRsaVerifier::kArenaBytes);
  }
}

TEST(MbedTlsRsaVerifierArenaTest, EnoughForFreshKeysOfBothSizes) {
  // The numbers have the modulus' size whatever the key, so the need hardly varies;
  // check kArenaBytes, exactly, against fresh keys anyway.
  std::mt19937 rng(13);
  for (const SignatureAlgorithm algorithm : {kRsa2048, kRsa3072, kRsa3072, kRsa3072}) {
    const SigningKey key = manifest::testing::new_key(algorithm);
    const std::vector<std::byte> message = random_bytes(rng, rng() % 100);
    ASSERT_EQ(verify_in_arena(MbedTlsRsaVerifier::kArenaBytes, key.public_key(), message,
                              must(key.sign(message))),
              ErrorCode::kOk)
        << algorithm_name(algorithm);
  }
}

// --- A whole manifest on RSA keys, as a device with mbedTLS checks it.

TEST(MbedTlsRsaManifestTest, VerifiesAnAnswerAndARotationOnRsaKeys) {
  manifest::RootSpec v1 = manifest::testing::root_v1_spec();
  v1.root_keys = manifest::testing::public_keys({&keys().root_c});  // P-256
  v1.release_keys = manifest::testing::public_keys({&keys().release_b});
  const std::vector<std::byte> v1_bytes = manifest::testing::sign_root(v1, {&keys().root_c});
  manifest::RootSpec v2;
  v2.version = 2;
  v2.root_keys = manifest::testing::public_keys({&rsa_keys().root});
  v2.release_keys = manifest::testing::public_keys({&rsa_keys().release});
  const std::vector<std::byte> v2_bytes =
      manifest::testing::sign_root(v2, {&keys().root_c, &rsa_keys().root});

  std::vector<std::byte> arena(MbedTlsRsaVerifier::kArenaBytes);
  MbedTlsRsaVerifier verifier(arena);
  const manifest::RootMetadata trusted = must(manifest::parse_root(v1_bytes));
  const manifest::RootMetadata candidate = must(manifest::parse_root(v2_bytes));
  ASSERT_EQ(code_of(manifest::verify_root_rotation(trusted, candidate, verifier)), ErrorCode::kOk);

  const std::vector<std::byte> answer =
      manifest::testing::sign_manifest(manifest::testing::answer_spec(), {&rsa_keys().release});
  const manifest::Manifest parsed = must(manifest::parse_manifest(answer));
  EXPECT_EQ(code_of(manifest::check_release_signatures(parsed, candidate, verifier)),
            ErrorCode::kOk);
  EXPECT_EQ(code_of(manifest::check_release_signatures(parsed, trusted, verifier)),
            ErrorCode::kSignatureUnknownKey);
}

}  // namespace
}  // namespace updraft
