// Ed25519, ECDSA P-256 and RSA-2048/3072 (PSS) keys for the host tools that sign releases and root
// metadata: generation, PEM encoding, signing. Signatures and public keys come out
// in the fixed encodings of crypto/signature_verifier.h, so any device backend
// verifies them. OpenSSL 3 underneath; every failure is an Error with its reason.
// Host only. Not thread-safe per object (an EVP_PKEY is shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "crypto/host/openssl.h"
#include "crypto/signature_verifier.h"

namespace updraft {

// A public key as root metadata carries it.
struct PublicKey {
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519;
  // 32 bytes (Ed25519), 65 (P-256, uncompressed) or 256/384 (RSA modulus)
  std::vector<std::byte> bytes;

  bool operator==(const PublicKey&) const = default;
};

// The public key in a PEM file: a SubjectPublicKeyInfo ("PUBLIC KEY") or a private
// key, whose public half is taken. kInvalidArgument for another key type.
HostResult<PublicKey> public_key_from_pem(std::string_view pem);

// SubjectPublicKeyInfo PEM, the form `openssl pkey -pubout` writes.
HostResult<std::string> public_key_to_pem(const PublicKey& key);

// "ed25519", "p256", "rsa-2048-pss" or "rsa-3072-pss", the names the CLI takes.
std::string_view algorithm_name(SignatureAlgorithm algorithm);

// The algorithm a name above (or "ecdsa-p256", updraftd's name for p256) stands
// for; kInvalidArgument, listing the names, for any other.
HostResult<SignatureAlgorithm> algorithm_from_name(std::string_view name);

class SigningKey {
 public:
  SigningKey() = default;  // holds no key; sign() fails. For Result<SigningKey>.

  static HostResult<SigningKey> generate(SignatureAlgorithm algorithm);

  // An unencrypted private key in PEM (PKCS#8 "PRIVATE KEY" or OpenSSL's older
  // "EC PRIVATE KEY", "RSA PRIVATE KEY"). kInvalidArgument if it is not Ed25519,
  // P-256, or RSA-2048/3072 with the exponent 65537.
  static HostResult<SigningKey> from_pem(std::string_view pem);

  // Unencrypted PKCS#8 PEM. The caller keeps it secret (see crypto/host/key_file.h).
  HostResult<std::string> to_pem() const;

  SignatureAlgorithm algorithm() const { return public_key_.algorithm; }
  const PublicKey& public_key() const { return public_key_; }

  // The signature of `message`: Ed25519 (pure, 64 bytes), ECDSA over
  // SHA-256(message) as r || s (64 bytes), or RSASSA-PSS with SHA-256, MGF1-SHA-256
  // and a 32-byte salt (the modulus' size).
  HostResult<std::vector<std::byte>> sign(ByteView message) const;

 private:
  static HostResult<SigningKey> from_pkey(openssl::Pkey key);

  openssl::Pkey key_;
  PublicKey public_key_;
};

}  // namespace updraft
