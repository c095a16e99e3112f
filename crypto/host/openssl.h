// The one place that knows OpenSSL's conventions: owning handles for its objects,
// its thread-local error queue turned into our Error, and the conversions between
// OpenSSL's key and signature encodings and the fixed ones manifests carry
// (crypto/signature_verifier.h). Host only.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "crypto/signature_verifier.h"

namespace updraft::openssl {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Error `code` with "<what>: <OpenSSL's reason>" as message. Drains OpenSSL's
// error queue, so a stale entry never shows up in a later, unrelated message.
Error error(ErrorCode code, const std::string& what);

// Empties OpenSSL's error queue (after a failure that is an expected answer, such
// as a signature that does not verify).
void clear_errors();

// Which of our algorithms `key` belongs to; kInvalidArgument for any other key type
// (another curve, RSA of another size or with another exponent than 65537).
HostResult<SignatureAlgorithm> algorithm_of(EVP_PKEY* key);

// The raw public key in our encoding (32 bytes Ed25519, 65 bytes uncompressed P-256,
// the 256- or 384-byte RSA modulus).
HostResult<std::vector<std::byte>> raw_public_key(EVP_PKEY* key, SignatureAlgorithm algorithm);

// A public-key-only EVP_PKEY from our encoding. kSignatureInvalid when the bytes
// are not a key (wrong size, a point off the curve): a verifier then rejects.
HostResult<Pkey> public_key_from_raw(SignatureAlgorithm algorithm, ByteView raw);

// Sets RSASSA-PSS on a signing or verifying context: MGF1 with SHA-256, a salt of
// the hash's length (32 bytes), exactly; a verifier refuses any other salt length.
HostResult<void> use_rsa_pss(EVP_PKEY_CTX* ctx);

// ECDSA signatures: OpenSSL speaks ASN.1 DER, manifests carry r || s (64 bytes).
HostResult<std::vector<std::byte>> ecdsa_der_to_raw(ByteView der);
HostResult<std::vector<unsigned char>> ecdsa_raw_to_der(ByteView raw);

}  // namespace updraft::openssl
