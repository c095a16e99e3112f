// Signature verification behind an interface, so a device uses its vendor's crypto
// (a hardware accelerator, mbedTLS, a secure element) and the host uses OpenSSL
// (crypto/host/openssl_verifier.h). Portable: no heap, no exceptions.
//
// Encodings are fixed so every backend sees the same bytes (docs/formats/manifest.md):
//   Ed25519:              public key 32 bytes (RFC 8032), signature 64 bytes (R || S).
//   ECDSA P-256, SHA-256: public key 65 bytes, uncompressed SEC1 (0x04 || X || Y);
//                         signature 64 bytes, r || s as 32-byte big-endian integers
//                         (the form vendor libraries take, not ASN.1 DER).
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
};

inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kMaxPublicKeySize = 65;

// Size of a public key of `algorithm`, or 0 for a value that names no algorithm.
constexpr std::size_t public_key_size(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      return 32;
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return 65;
  }
  return 0;
}

class SignatureVerifier {
 public:
  // Checks that `signature` is `public_key`'s signature of `message` (the whole
  // message; ECDSA hashes it with SHA-256 itself). Returns kSignatureInvalid for a
  // wrong signature or a public key that is not a valid point, and
  // kSignatureAlgorithmUnsupported for an algorithm this backend lacks. Never
  // keeps references to the arguments.
  virtual Result<void> verify(SignatureAlgorithm algorithm, ByteView public_key, ByteView message,
                              ByteView signature) = 0;

 protected:
  ~SignatureVerifier() =
      default;  // not deleted through this type, so the MCU needs no operator delete
};

}  // namespace updraft
