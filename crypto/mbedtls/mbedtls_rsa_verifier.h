// The device's SignatureVerifier for RSA-2048 and RSA-3072 with PSS (RSASSA-PSS of
// RFC 8017: SHA-256, MGF1 with SHA-256, a 32-byte salt; the key and signature
// encodings of crypto/signature_verifier.h), on mbedTLS 2.28 (rsa.c with PKCS#1
// v2.1, the MD layer over its SHA-256; updraft_mbedtls_config.h). ECDSA P-256 goes
// to MbedTlsVerifier in the same arena, so one object serves a root that mixes both.
// For devices whose keys are RSA, as MCUboot's and AliOS's often are. Its own file:
// a firmware that verifies P-256 only (the water meter) links none of this.
// Portable: no heap, no exceptions, no OS calls.
//
// Memory: every mbedTLS allocation comes from the caller's arena (as
// MbedTlsVerifier), used only during verify().
//
// One verification (mbedtls_rsa_verifier_test; arm-none-eabi-gcc 12, -Os, linked
// with verify() as the only root and --gc-sections, as scripts/cortex_m_check.sh
// measures P-256):
//   arena   RSA-3072 7,864 bytes at the least on a 64-bit host, RSA-2048 5,560; the
//           numbers have the modulus' size whatever the key, so the need does not
//           vary. 32-bit devices need less (4-byte pointers in the allocator's block
//           headers): about 7.3 KB for RSA-3072, an estimate, not measured on a
//           device. kArenaBytes leaves about a tenth to spare. The agent lends its
//           patch workspace, as for P-256: mcu-tiny's 7,976 bytes are enough for
//           RSA-2048, not for RSA-3072 with a margin.
//   stack   P-256's plus the 384-byte buffer of mbedtls_rsa_rsassa_pss_verify_ext()
//           and its SHA-256 state: about 1 KB more (estimated, not painted).
//   flash   verify() with all it calls, P-256 included: 20,916 bytes on Cortex-M4
//           (P-256 alone 14,240), 22,216 on Cortex-M0 (P-256 alone 15,680): RSA-PSS
//           costs about 6.6 KB. That does not fit the water meter's 48 KB
//           (agent/cortex_m/meter), which keeps MbedTlsVerifier.
//   time    the public exponent 65537 is 17 modular squarings and a multiplication:
//           far less work than a P-256 verification.
//
// Not thread-safe, and not re-entrant with other mbedTLS users (see MbedTlsVerifier).
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/mbedtls/mbedtls_verifier.h"
#include "crypto/signature_verifier.h"

namespace updraft {

class MbedTlsRsaVerifier final : public SignatureVerifier {
 public:
  // Enough for an RSA-3072 verification (and so for RSA-2048 and for
  // MbedTlsVerifier's P-256): the measured need (above) with about a tenth to spare.
  static constexpr std::size_t kArenaBytes = sizeof(void*) <= 4 ? 8192 : 9216;

  // `arena` must outlive the verifier; it is free for other uses between verify()
  // calls, and its contents are not kept.
  explicit MbedTlsRsaVerifier(MutableByteView arena) : arena_(arena), p256_(arena) {}

  // As SignatureVerifier::verify(): RSA-2048/3072 PSS here (the message is hashed
  // with crypto/sha256.h), ECDSA P-256 by MbedTlsVerifier. kSignatureInvalid for a
  // signature that does not verify, a salt of another length, or a key that is not
  // an odd modulus of exactly the stated size; kCryptoWorkspaceTooSmall when the
  // arena runs out; kSignatureAlgorithmUnsupported for Ed25519 and unknown values.
  Result<void> verify(SignatureAlgorithm algorithm, ByteView public_key, ByteView message,
                      ByteView signature) override;

 private:
  MutableByteView arena_;
  MbedTlsVerifier p256_;
};

}  // namespace updraft
