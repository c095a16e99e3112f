// Signature verification behind an interface, so a device uses its vendor's crypto
// (a hardware accelerator, mbedTLS, a secure element) and the host uses OpenSSL
// (crypto/host/openssl_verifier.h). Portable: no heap, no exceptions.
//
// Encodings are fixed so every backend sees the same bytes (docs/formats/manifest.md):
//   Ed25519:              public key 32 bytes (RFC 8032), signature 64 bytes (R || S).
//   ECDSA P-256, SHA-256: public key 65 bytes, uncompressed SEC1 (0x04 || X || Y);
//                         signature 64 bytes, r || s as 32-byte big-endian integers
//                         (the form vendor libraries take, not ASN.1 DER).
//   RSA-2048 / RSA-3072 PSS (RFC 8017 RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt
//                         length 32 = the hash's): public key 256 / 384 bytes, the
//                         modulus n big-endian with its top bit set (exactly 2048 /
//                         3072 bits); the public exponent is always 65537 and is not
//                         stored. Signature 256 / 384 bytes, big-endian, as RFC 8017
//                         (and MCUboot, AliOS, mbedTLS, OpenSSL) write it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft {

// Values are stored in manifests and root metadata; never renumber.
enum class SignatureAlgorithm : std::uint8_t {
  kEd25519 = 1,
  kEcdsaP256Sha256 = 2,
  kRsa2048PssSha256 = 3,
  kRsa3072PssSha256 = 4,
};

// Ed25519 and ECDSA P-256 signatures; RSA's are the modulus' size (signature_size()).
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kMaxSignatureSize = 384;
inline constexpr std::size_t kMaxPublicKeySize = 384;
// The RSA public exponent every RSA key here has (RFC 8017's F4).
inline constexpr std::uint32_t kRsaPublicExponent = 65537;

// Size of a public key of `algorithm`, or 0 for a value that names no algorithm.
constexpr std::size_t public_key_size(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      return 32;
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return 65;
    case SignatureAlgorithm::kRsa2048PssSha256:
      return 256;
    case SignatureAlgorithm::kRsa3072PssSha256:
      return 384;
  }
  return 0;
}

// Size of a signature by `algorithm`, or 0 for a value that names no algorithm.
constexpr std::size_t signature_size(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return kSignatureSize;
    case SignatureAlgorithm::kRsa2048PssSha256:
    case SignatureAlgorithm::kRsa3072PssSha256:
      return public_key_size(algorithm);
  }
  return 0;
}

constexpr bool is_rsa(SignatureAlgorithm algorithm) {
  return algorithm == SignatureAlgorithm::kRsa2048PssSha256 ||
         algorithm == SignatureAlgorithm::kRsa3072PssSha256;
}

class SignatureVerifier {
 public:
  // Checks that `signature` is `public_key`'s signature of `message` (the whole
  // message; ECDSA and RSA-PSS hash it with SHA-256 themselves). Returns
  // kSignatureInvalid for a wrong signature or a public key that is not a valid key
  // (a point off the curve, an RSA modulus of the wrong size), and
  // kSignatureAlgorithmUnsupported for an algorithm this backend lacks. Never
  // keeps references to the arguments.
  virtual Result<void> verify(SignatureAlgorithm algorithm, ByteView public_key, ByteView message,
                              ByteView signature) = 0;

 protected:
  ~SignatureVerifier() =
      default;  // not deleted through this type, so the MCU needs no operator delete
};

}  // namespace updraft
