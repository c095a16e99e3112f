/* mbedTLS 2.28 configuration for crypto/mbedtls/mbedtls_verifier.h and
 * mbedtls_rsa_verifier.h: only what ECDSA P-256 and RSA-PSS signature verification
 * need, sized for a microcontroller with 16-20 KB of RAM. A firmware links only what
 * its verifier calls (--gc-sections): the P-256 verifier none of the RSA, MD or
 * SHA-256 code below. mbedTLS reads it instead of its own mbedtls/config.h because the build
 * defines MBEDTLS_CONFIG_FILE (crypto/mbedtls/CMakeLists.txt). Plain C: mbedTLS compiles it.
 *
 * No file system, network, entropy, clock or DRBG: a verification is a pure function
 * of public data. Every allocation comes from the caller's arena through
 * memory_buffer_alloc; the C library's malloc and free are never referenced
 * (scripts/cortex_m_check.sh checks the symbols). */
#ifndef UPDRAFT_MBEDTLS_CONFIG_H
#define UPDRAFT_MBEDTLS_CONFIG_H

/* Multiply-accumulate in assembly where bn_mul.h has it (UMAAL on the Cortex-M4,
 * a Thumb-1 sequence on the M0, x86-64 on the host): several times faster than C. */
#define MBEDTLS_HAVE_ASM

/* Memory: mbedtls_calloc/mbedtls_free are function pointers that
 * mbedtls_memory_buffer_alloc_init() points at a first-fit allocator over the
 * caller's arena. NO_STD_FUNCTIONS keeps calloc, free, printf and friends out of
 * the defaults, so nothing reaches the C library's heap. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* The allocator calls mbedtls_exit() only when it finds its own block headers
 * corrupted, i.e. after a memory-safety bug. There is no safe way to go on, and a
 * bare-metal libc's exit() needs an OS: trap (a HardFault on a Cortex-M, whose
 * handler resets; SIGILL on a host). */
#define MBEDTLS_PLATFORM_EXIT_MACRO(status) __builtin_trap()

/* The arithmetic: big numbers, the P-256 group only, ECDSA. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
/* Fast reduction modulo P-256's prime: much faster for a little flash. */
#define MBEDTLS_ECP_NIST_OPTIM
/* The internal DRBG only blinds secret scalars; verification has none. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECDSA_C
/* ecdsa.c insists on these for its DER signature functions; we pass r and s as
 * numbers, so the linker drops them (--gc-sections). */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C

/* RSASSA-PSS verification (PKCS#1 v2.1): RSA needs OID (its PKCS#1 v1.5 encoding,
 * never called here), PSS the MD layer for MGF1, and the MD layer one hash: SHA-256,
 * in its smaller, slower form (MGF1 hashes a few hundred bytes). */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_OID_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* Small-RAM tuning. A comb window of 2 keeps the table of precomputed points at 2
 * points per multiplication. Fixed-point optimisation would keep the base point's
 * table in the group between calls, but the verifier loads the group for each
 * verification, so it would only cost RAM. Numbers never exceed 3072 bits, an RSA-3072
 * modulus (plus the products the arithmetic makes internally, which these limits do
 * not cap); MBEDTLS_MPI_MAX_SIZE also sizes one buffer on the stack of an RSA-PSS
 * verification (384 bytes), and no buffer of the P-256 path. A window of 1 keeps
 * the modular exponentiation's table at one number: the public exponent 65537 has
 * 17 bits, so a wider window would save almost nothing. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_MPI_MAX_SIZE 384
#define MBEDTLS_MPI_WINDOW_SIZE 1

#include "mbedtls/check_config.h"

#endif /* UPDRAFT_MBEDTLS_CONFIG_H */
