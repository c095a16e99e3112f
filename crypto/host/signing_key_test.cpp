#include "crypto/host/signing_key.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/host/openssl.h"
#include "crypto/host/openssl_verifier.h"

namespace updraft {
namespace {

constexpr SignatureAlgorithm kAlgorithms[] = {
    SignatureAlgorithm::kEd25519, SignatureAlgorithm::kEcdsaP256Sha256,
    SignatureAlgorithm::kRsa2048PssSha256, SignatureAlgorithm::kRsa3072PssSha256};
constexpr SignatureAlgorithm kRsa[] = {SignatureAlgorithm::kRsa2048PssSha256,
                                       SignatureAlgorithm::kRsa3072PssSha256};

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

SigningKey fresh(SignatureAlgorithm algorithm) {
  HostResult<SigningKey> key = SigningKey::generate(algorithm);
  EXPECT_TRUE(key.ok()) << key.error().to_string();
  return std::move(key).value();
}

// Key number `n` of `algorithm`, made once per run: RSA-3072 takes a second or more.
const SigningKey& generated(SignatureAlgorithm algorithm, int n = 0) {
  static std::map<std::pair<SignatureAlgorithm, int>, SigningKey> keys;
  auto it = keys.find({algorithm, n});
  if (it == keys.end()) it = keys.emplace(std::pair{algorithm, n}, fresh(algorithm)).first;
  return it->second;
}

ErrorCode verify(const PublicKey& key, ByteView message, ByteView signature) {
  OpenSslVerifier verifier;
  const Result<void> r = verifier.verify(key.algorithm, key.bytes, message, signature);
  return r.ok() ? ErrorCode::kOk : r.error();
}

TEST(SigningKeyTest, SignaturesVerifyInTheFixedEncoding) {
  const std::vector<std::byte> message = bytes_of("release 2.1.0 for acme-thermostat");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey& key = generated(algorithm);
    EXPECT_EQ(key.public_key().bytes.size(), public_key_size(algorithm));
    for (int i = 0; i < 20; ++i) {  // ECDSA's r and s sometimes have leading zero bytes
      const std::vector<std::byte> signature = key.sign(message).value();
      ASSERT_EQ(signature.size(), signature_size(algorithm));
      EXPECT_EQ(verify(key.public_key(), message, signature), ErrorCode::kOk)
          << algorithm_name(algorithm);
    }
  }
}

TEST(SigningKeyTest, EveryFlippedBitOfMessageOrSignatureFails) {
  const std::vector<std::byte> message = bytes_of("manifest signed region");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey& key = generated(algorithm);
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
    const SigningKey& a = generated(algorithm, 0);
    const SigningKey& b = generated(algorithm, 1);
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
  const SigningKey& p256 = generated(SignatureAlgorithm::kEcdsaP256Sha256);
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

// RSA-PSS property: random messages of random lengths verify; one changed byte of
// the message, of the signature or of the key's modulus, or another key, refuses.
TEST(SigningKeyTest, RsaPssSignaturesOfRandomMessagesVerifyAndAnyTamperingFails) {
  std::mt19937 rng(20240615);
  for (const SignatureAlgorithm algorithm : kRsa) {
    const SigningKey& key = generated(algorithm);
    const SigningKey& other = generated(algorithm, 1);
    std::vector<std::byte> last;
    for (int i = 0; i < 40; ++i) {
      SCOPED_TRACE(std::string(algorithm_name(algorithm)) + " message " + std::to_string(i));
      std::vector<std::byte> message(rng() % 2000);
      for (std::byte& b : message) b = static_cast<std::byte>(rng());
      const std::vector<std::byte> signature = key.sign(message).value();
      ASSERT_EQ(signature.size(), public_key_size(algorithm));
      EXPECT_NE(signature, last) << "PSS is randomised: a fresh salt per signature";
      last = signature;
      EXPECT_EQ(verify(key.public_key(), message, signature), ErrorCode::kOk);

      std::vector<std::byte> bad_signature = signature;
      bad_signature[rng() % bad_signature.size()] ^= static_cast<std::byte>(1 + rng() % 255);
      EXPECT_EQ(verify(key.public_key(), message, bad_signature), ErrorCode::kSignatureInvalid);
      std::vector<std::byte> bad_message = message;
      if (bad_message.empty()) {
        bad_message.push_back(std::byte{0});
      } else {
        bad_message[rng() % bad_message.size()] ^= static_cast<std::byte>(1 + rng() % 255);
      }
      EXPECT_EQ(verify(key.public_key(), bad_message, signature), ErrorCode::kSignatureInvalid);
      PublicKey bad_key = key.public_key();
      // Any byte but the first and last (which keep their top and low bits).
      bad_key.bytes[1 + rng() % (bad_key.bytes.size() - 2)] ^=
          static_cast<std::byte>(1 + rng() % 255);
      EXPECT_EQ(verify(bad_key, message, signature), ErrorCode::kSignatureInvalid);
      EXPECT_EQ(verify(other.public_key(), message, signature), ErrorCode::kSignatureInvalid);
      // The same bytes claimed by the other RSA size are refused too.
      const SignatureAlgorithm wrong = algorithm == SignatureAlgorithm::kRsa2048PssSha256
                                           ? SignatureAlgorithm::kRsa3072PssSha256
                                           : SignatureAlgorithm::kRsa2048PssSha256;
      OpenSslVerifier verifier;
      EXPECT_FALSE(verifier.verify(wrong, key.public_key().bytes, message, signature).ok());
    }
  }
}

// An RSA key whose modulus is not exactly of its size (top bit clear), or even, is
// no key: refused before any arithmetic.
TEST(SigningKeyTest, RsaModulusOfTheWrongFormIsRefused) {
  const std::vector<std::byte> message = bytes_of("m");
  const SigningKey& key = generated(SignatureAlgorithm::kRsa2048PssSha256);
  const std::vector<std::byte> signature = key.sign(message).value();
  PublicKey short_modulus = key.public_key();
  short_modulus.bytes[0] &= std::byte{0x7F};
  EXPECT_EQ(verify(short_modulus, message, signature), ErrorCode::kSignatureInvalid);
  PublicKey even = key.public_key();
  even.bytes.back() &= std::byte{0xFE};
  EXPECT_EQ(verify(even, message, signature), ErrorCode::kSignatureInvalid);
}

// Signs with OpenSSL directly: RSA with `padding` and, for PSS, `salt_length`.
std::vector<std::byte> rsa_sign_raw(const SigningKey& key, ByteView message, int padding,
                                    int salt_length) {
  // The private key: through PEM, the way a key file comes in.
  const std::string pem = key.to_pem().value();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* private_key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  openssl::Pkey owner(private_key);
  openssl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, private_key), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
  if (padding == RSA_PKCS1_PSS_PADDING) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_length), 1);
  }
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size, data, message.size()), 1);
  std::vector<std::byte> out(size);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, data,
                           message.size()),
            1);
  out.resize(size);
  return out;
}

// The parameters are fixed: PKCS#1 v1.5, or PSS with another salt length, is refused
// even when the key made it.
TEST(SigningKeyTest, RsaSignaturesWithOtherParametersAreRefused) {
  const std::vector<std::byte> message = bytes_of("release manifest");
  const SigningKey& key = generated(SignatureAlgorithm::kRsa2048PssSha256);
  EXPECT_EQ(
      verify(key.public_key(), message, rsa_sign_raw(key, message, RSA_PKCS1_PSS_PADDING, 32)),
      ErrorCode::kOk);
  EXPECT_EQ(
      verify(key.public_key(), message, rsa_sign_raw(key, message, RSA_PKCS1_PSS_PADDING, 20)),
      ErrorCode::kSignatureInvalid);
  EXPECT_EQ(verify(key.public_key(), message, rsa_sign_raw(key, message, RSA_PKCS1_PSS_PADDING, 0)),
            ErrorCode::kSignatureInvalid);
  EXPECT_EQ(verify(key.public_key(), message, rsa_sign_raw(key, message, RSA_PKCS1_PADDING, 0)),
            ErrorCode::kSignatureInvalid);
}

// Only the sizes and the exponent manifests carry are keys here.
TEST(SigningKeyTest, RsaKeysOfOtherSizesOrExponentsAreRefused) {
  const auto rsa_pem = [](unsigned bits, unsigned exponent) {
    openssl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY_keygen_init(ctx.get());
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits));
    BIGNUM* e = BN_new();
    BN_set_word(e, exponent);
    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e);
    BN_free(e);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_generate(ctx.get(), &key);
    openssl::Pkey owner(key);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
  };
  EXPECT_EQ(SigningKey::from_pem(rsa_pem(1024, 65537)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::from_pem(rsa_pem(2048, 3)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(public_key_from_pem(rsa_pem(2048, 3)).error().code, ErrorCode::kInvalidArgument);
  const HostResult<SigningKey> good = SigningKey::from_pem(rsa_pem(2048, 65537));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->algorithm(), SignatureAlgorithm::kRsa2048PssSha256);
}

TEST(SigningKeyTest, AlgorithmNamesRoundTrip) {
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    EXPECT_EQ(algorithm_from_name(algorithm_name(algorithm)).value(), algorithm);
  }
  EXPECT_EQ(algorithm_from_name("ecdsa-p256").value(), SignatureAlgorithm::kEcdsaP256Sha256);
  EXPECT_FALSE(algorithm_from_name("rsa").ok());
}

TEST(SigningKeyTest, PemRoundTripKeepsTheKey) {
  const std::vector<std::byte> message = bytes_of("m");
  for (const SignatureAlgorithm algorithm : kAlgorithms) {
    const SigningKey& key = generated(algorithm);
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
  const SigningKey& key = generated(SignatureAlgorithm::kEd25519);
  EXPECT_FALSE(SigningKey::from_pem(public_key_to_pem(key.public_key()).value()).ok());
}

}  // namespace
}  // namespace updraft
