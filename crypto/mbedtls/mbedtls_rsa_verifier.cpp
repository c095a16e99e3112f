#include "crypto/mbedtls/mbedtls_rsa_verifier.h"

#include "crypto/mbedtls/arena_heap.h"
#include "crypto/sha256.h"
#include "mbedtls/bignum.h"
#include "mbedtls/md.h"
#include "mbedtls/rsa.h"

namespace updraft {
namespace {

using mbedtls_internal::ArenaHeap;

constexpr std::size_t kSaltBytes = 32;  // SHA-256's size (crypto/signature_verifier.h)
constexpr unsigned char kExponent[] = {0x01, 0x00, 0x01};  // 65537, big-endian

const unsigned char* uchars(ByteView bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// One public key: freed back into the arena before the ArenaHeap ends.
struct RsaKey {
  RsaKey() { mbedtls_rsa_init(&context, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256); }
  ~RsaKey() { mbedtls_rsa_free(&context); }
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  mbedtls_rsa_context context;
};

// As in MbedTlsVerifier: running out of arena is never a verdict on the signature.
// RSA wraps a bignum failure in its own code (high-level | low-level bits), so the
// low-level part is what says "allocation failed".
Result<void> check(int mbedtls_result) {
  if (mbedtls_result == 0) return {};
  const int low_level = -((-mbedtls_result) & 0x7F);
  if (low_level == MBEDTLS_ERR_MPI_ALLOC_FAILED || mbedtls_result == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
      mbedtls_result == MBEDTLS_ERR_MD_ALLOC_FAILED) {
    return ErrorCode::kCryptoWorkspaceTooSmall;
  }
  return ErrorCode::kSignatureInvalid;
}

}  // namespace

Result<void> MbedTlsRsaVerifier::verify(SignatureAlgorithm algorithm, ByteView public_key,
                                        ByteView message, ByteView signature) {
  if (!is_rsa(algorithm)) return p256_.verify(algorithm, public_key, message, signature);
  const std::size_t size = public_key_size(algorithm);
  if (public_key.size() != size || signature.size() != size) return ErrorCode::kSignatureInvalid;
  // A modulus of exactly the stated size, and odd (as the root parser insists).
  if ((std::to_integer<unsigned>(public_key[0]) & 0x80u) == 0 ||
      (std::to_integer<unsigned>(public_key[size - 1]) & 1u) == 0) {
    return ErrorCode::kSignatureInvalid;
  }
  // Hashed before mbedTLS starts, so its stack and the hasher's do not add up.
  const Sha256Digest digest = Sha256::digest(message);

  const ArenaHeap heap(arena_);
  RsaKey key;
  UPDRAFT_TRY(check(mbedtls_rsa_import_raw(&key.context, uchars(public_key), size, nullptr, 0,
                                           nullptr, 0, nullptr, 0, kExponent, sizeof kExponent)));
  UPDRAFT_TRY(check(mbedtls_rsa_complete(&key.context)));
  UPDRAFT_TRY(check(mbedtls_rsa_check_pubkey(&key.context)));
  // The salt length is fixed: a signature made with another one is refused, so
  // every backend accepts exactly the same signatures.
  return check(mbedtls_rsa_rsassa_pss_verify_ext(
      &key.context, nullptr, nullptr, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_SHA256,
      static_cast<unsigned int>(digest.size()),
      reinterpret_cast<const unsigned char*>(digest.data()), MBEDTLS_MD_SHA256,
      static_cast<int>(kSaltBytes), uchars(signature)));
}

}  // namespace updraft
