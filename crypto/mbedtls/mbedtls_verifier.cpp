#include "crypto/mbedtls/mbedtls_verifier.h"

#include "crypto/mbedtls/arena_heap.h"
#include "crypto/sha256.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"

namespace updraft {
namespace {

using mbedtls_internal::ArenaHeap;

constexpr std::size_t kScalarSize = kSignatureSize / 2;  // r and s, 32 bytes each

const unsigned char* uchars(ByteView bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// What one verification holds: the curve, the public key point, and r and s.
struct EcdsaP256 {
  EcdsaP256() {
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&key);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
  }
  ~EcdsaP256() {
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&key);
    mbedtls_ecp_group_free(&group);
  }
  EcdsaP256(const EcdsaP256&) = delete;
  EcdsaP256& operator=(const EcdsaP256&) = delete;

  mbedtls_ecp_group group;
  mbedtls_ecp_point key;
  mbedtls_mpi r;
  mbedtls_mpi s;
};

// An exhausted arena shows up as an allocation failure of whichever module asked.
// It must not read as a bad signature: the signature may be fine, the device is
// misconfigured. Everything else (not a point on the curve, r or s out of range, a
// signature that does not match) is a signature the device must refuse.
Result<void> check(int mbedtls_result) {
  if (mbedtls_result == 0) return {};
  if (mbedtls_result == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
      mbedtls_result == MBEDTLS_ERR_ECP_ALLOC_FAILED) {
    return ErrorCode::kCryptoWorkspaceTooSmall;
  }
  return ErrorCode::kSignatureInvalid;
}

}  // namespace

Result<void> MbedTlsVerifier::verify(SignatureAlgorithm algorithm, ByteView public_key,
                                     ByteView message, ByteView signature) {
  if (algorithm != SignatureAlgorithm::kEcdsaP256Sha256) {
    return ErrorCode::kSignatureAlgorithmUnsupported;
  }
  if (public_key.size() != public_key_size(algorithm) || signature.size() != kSignatureSize) {
    return ErrorCode::kSignatureInvalid;
  }
  // Hashed before mbedTLS starts, so its stack and the hasher's do not add up.
  const Sha256Digest digest = Sha256::digest(message);

  const ArenaHeap heap(arena_);
  EcdsaP256 ecdsa;
  UPDRAFT_TRY(check(mbedtls_ecp_group_load(&ecdsa.group, MBEDTLS_ECP_DP_SECP256R1)));
  UPDRAFT_TRY(check(mbedtls_ecp_point_read_binary(&ecdsa.group, &ecdsa.key, uchars(public_key),
                                                  public_key.size())));
  // The interface promises kSignatureInvalid for a key that is not a point on the
  // curve, whatever the rest of the arithmetic would make of it.
  UPDRAFT_TRY(check(mbedtls_ecp_check_pubkey(&ecdsa.group, &ecdsa.key)));
  UPDRAFT_TRY(check(mbedtls_mpi_read_binary(&ecdsa.r, uchars(signature), kScalarSize)));
  UPDRAFT_TRY(check(
      mbedtls_mpi_read_binary(&ecdsa.s, uchars(signature.subspan(kScalarSize)), kScalarSize)));
  return check(mbedtls_ecdsa_verify(&ecdsa.group,
                                    reinterpret_cast<const unsigned char*>(digest.data()),
                                    digest.size(), &ecdsa.key, &ecdsa.r, &ecdsa.s));
}

}  // namespace updraft
