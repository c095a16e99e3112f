#include "crypto/host/signing_key.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "crypto/host/openssl_verifier.h"

namespace updraft {
namespace {

constexpr SignatureAlgorithm kAlgorithms[] = {SignatureAlgorithm::kEd25519,
                                              SignatureAlgorithm::kEcdsaP256Sha256};

std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<std::byte> bytes_of(std::string_view text) {
  const ByteView v = as_bytes_view(text.data(), text.size());
  return std::vector<std::byte>(v.begin(), v.end());
}

SigningKey generated(SignatureAlgorithm algorithm) {
  HostResult<SigningKey> key = SigningKey::generate(algorithm);
  EXPECT_TRUE(key.ok()) << key.error().to_string();
  return std::move(key).value();
}

ErrorCode verify(const PublicKey& key, ByteView message, ByteView signature) {
  OpenSslVerifier verifier;
  const Result<void> r = verifier.verify(key.algorithm, key.bytes, message, signature);
  return r.ok() ? ErrorCode::kOk : r.error();
}

TEST(SigningKeyTest, SignaturesVerifyInTheFixedEncoding) {
  const std::vector<std::byte> message = bytes_of("release 2.1.0 for acme-thermostat");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey key = generated(algorithm);
    EXPECT_EQ(key.public_key().bytes.size(), public_key_size(algorithm));
    for (int i = 0; i < 20; ++i) {  // ECDSA's r and s sometimes have leading zero bytes
      const std::vector<std::byte> signature = key.sign(message).value();
      ASSERT_EQ(signature.size(), kSignatureSize);
      EXPECT_EQ(verify(key.public_key(), message, signature), ErrorCode::kOk)
          << algorithm_name(algorithm);
    }
  }
}

TEST(SigningKeyTest, EveryFlippedBitOfMessageOrSignatureFails) {
  const std::vector<std::byte> message = bytes_of("manifest signed region");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey key = generated(algorithm);
    const std::vector<std::byte> signature = key.sign(message).value();
    for (std::size_t bit = 0; bit < signature.size() * 8; ++bit) {
      std::vector<std::byte> bad = signature;
      bad[bit / 8] ^= std::byte(1u << (bit % 8));
      EXPECT_EQ(verify(key.public_key(), message, bad), ErrorCode::kSignatureInvalid)
          << algorithm_name(algorithm) << " signature bit " << bit;
    }
    for (std::size_t bit = 0; bit < message.size() * 8; ++bit) {
      std::vector<std::byte> bad = message;
      bad[bit / 8] ^= std::byte(1u << (bit % 8));
      EXPECT_EQ(verify(key.public_key(), bad, signature), ErrorCode::kSignatureInvalid)
          << algorithm_name(algorithm) << " message bit " << bit;
    }
  }
}

TEST(SigningKeyTest, OtherKeysSignatureFails) {
  const std::vector<std::byte> message = bytes_of("m");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey a = generated(algorithm);
    const SigningKey b = generated(algorithm);
    EXPECT_EQ(verify(b.public_key(), message, a.sign(message).value()),
              ErrorCode::kSignatureInvalid);
  }
}

TEST(SigningKeyTest, VerifiesRfc8032Ed25519TestVector) {
  // RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
  const PublicKey key{SignatureAlgorithm::kEd25519,
                      from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")};
  const std::vector<std::byte> message = from_hex("72");
  const std::vector<std::byte> signature = from_hex(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  EXPECT_EQ(verify(key, message, signature), ErrorCode::kOk);
}

TEST(SigningKeyTest, RefusesKeysThatAreNotKeys) {
  const std::vector<std::byte> message = bytes_of("m");
  const SigningKey p256 = generated(SignatureAlgorithm::kEcdsaP256Sha256);
  const std::vector<std::byte> signature = p256.sign(message).value();
  PublicKey off_curve = p256.public_key();
  off_curve.bytes[64] ^= std::byte{1};  // y no longer matches x
  EXPECT_EQ(verify(off_curve, message, signature), ErrorCode::kSignatureInvalid);
  PublicKey short_key = p256.public_key();
  short_key.bytes.pop_back();
  EXPECT_EQ(verify(short_key, message, signature), ErrorCode::kSignatureInvalid);
  PublicKey mislabelled{SignatureAlgorithm::kEd25519,
                        std::vector<std::byte>(p256.public_key().bytes.begin(),
                                               p256.public_key().bytes.begin() + 32)};
  EXPECT_EQ(verify(mislabelled, message, signature), ErrorCode::kSignatureInvalid);
  OpenSslVerifier verifier;
  EXPECT_EQ(
      verifier
          .verify(static_cast<SignatureAlgorithm>(9), p256.public_key().bytes, message, signature)
          .error(),
      ErrorCode::kSignatureAlgorithmUnsupported);
}

TEST(SigningKeyTest, PemRoundTripKeepsTheKey) {
  const std::vector<std::byte> message = bytes_of("m");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey key = generated(algorithm);
    const std::string private_pem = key.to_pem().value();
    EXPECT_NE(private_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    const SigningKey loaded = SigningKey::from_pem(private_pem).value();
    EXPECT_EQ(loaded.public_key(), key.public_key());
    EXPECT_EQ(verify(key.public_key(), message, loaded.sign(message).value()), ErrorCode::kOk);

    const std::string public_pem = public_key_to_pem(key.public_key()).value();
    EXPECT_NE(public_pem.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
    EXPECT_EQ(public_key_from_pem(public_pem).value(), key.public_key());
    EXPECT_EQ(public_key_from_pem(private_pem).value(),
              key.public_key());  // a private key names its public half
  }
}

TEST(SigningKeyTest, RefusesPemThatIsNotASupportedKey) {
  EXPECT_EQ(SigningKey::from_pem("not a key").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(public_key_from_pem("").error().code, ErrorCode::kInvalidArgument);
  // A public key is not a private key.
  const SigningKey key = generated(SignatureAlgorithm::kEd25519);
  EXPECT_FALSE(SigningKey::from_pem(public_key_to_pem(key.public_key()).value()).ok());
}

}  // namespace
}  // namespace updraft
