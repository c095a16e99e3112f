// The device's SignatureVerifier for ECDSA P-256 with SHA-256, on mbedTLS 2.28
// (Debian's source package, fetched by scripts/setup.sh and compiled with
// updraft_mbedtls_config.h: bignum, the P-256 group and ECDSA, nothing else).
// Portable: no heap, no exceptions, no OS calls.
//
// Ed25519 answers kSignatureAlgorithmUnsupported: mbedTLS 2.28 has no EdDSA (its
// Curve25519 is for key exchange only). Devices with this verifier need a root and
// release keys in ECDSA P-256 (updraftd --key-algorithm ecdsa-p256). RSA-PSS is
// unsupported here too, so a firmware that needs only P-256 links no RSA code;
// crypto/mbedtls/mbedtls_rsa_verifier.h verifies both.
//
// Memory: mbedTLS allocates its numbers and points, and here every allocation comes
// from the caller's arena (memory_buffer_alloc), which is used only during
// verify(): an agent lends its patch workspace, idle while a manifest is checked.
// A smaller arena fails with kCryptoWorkspaceTooSmall, never with a verdict.
//
// One verify, measured on Cortex-M4 (arm-none-eabi-gcc 12, -Os; agent/cortex_m under
// QEMU, scripts/cortex_m_check.sh prints these):
//   arena   2,944 bytes at the least. The need varies with the key and signature (by
//           12 % over 200 random ones on a host); kArenaBytes leaves room to spare.
//   RAM     besides the arena: this object (12 bytes), and 36 bytes of .data and .bss
//           for mbedTLS's allocator state and function pointers.
//   stack   1,228 bytes (painted), SHA-256 of the message included.
//   flash   14,240 bytes for verify() and all it calls: mbedTLS 11,190, this class
//           374, SHA-256 1,430, memcpy/memset/64-bit divide 1,224. On Cortex-M0
//           (ARMv6-M, preset cortex-m0, linked the same way): 15,680, mbedTLS 12,662.
//   time    29.4 M instructions (about 0.5 s at 64 MHz); a comb window of 3 instead
//           of 2 (updraft_mbedtls_config.h) saves 11 % for 176 bytes more arena.
//
// Not thread-safe, and not re-entrant with other mbedTLS users: mbedTLS's allocator
// is one global. verify() points it at this arena and leaves it pointing nowhere
// (every mbedTLS allocation then fails), so a firmware that also uses mbedTLS
// elsewhere sets up its own allocator again after each verify().
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/signature_verifier.h"

namespace updraft {

class MbedTlsVerifier final : public SignatureVerifier {
 public:
  // An arena of this size verifies any P-256 signature: the measured need (above)
  // with a third to spare. 64-bit hosts need half as much again (8-byte pointers in
  // the allocator's block headers). mbedtls_verifier_test.cpp checks the host's
  // figure over many keys, the smoke firmware (agent/cortex_m) the Cortex-M4's.
  static constexpr std::size_t kArenaBytes = sizeof(void*) <= 4 ? 4096 : 6144;

  // `arena` must outlive the verifier; it is free for other uses between verify()
  // calls, and its contents are not kept.
  explicit MbedTlsVerifier(MutableByteView arena) : arena_(arena) {}

  // As SignatureVerifier::verify(), for kEcdsaP256Sha256 (the message is hashed
  // here, with crypto/sha256.h). kCryptoWorkspaceTooSmall when the arena runs out;
  // kSignatureAlgorithmUnsupported for Ed25519, RSA and any other algorithm.
  Result<void> verify(SignatureAlgorithm algorithm, ByteView public_key, ByteView message,
                      ByteView signature) override;

 private:
  MutableByteView arena_;
};

}  // namespace updraft
