#include "crypto/host/openssl_verifier.h"

#include <vector>

#include "crypto/host/openssl.h"

namespace updraft {

Result<void> OpenSslVerifier::verify(SignatureAlgorithm algorithm, ByteView public_key,
                                     ByteView message, ByteView signature) {
  if (public_key_size(algorithm) == 0) return ErrorCode::kSignatureAlgorithmUnsupported;
  if (signature.size() != signature_size(algorithm)) return ErrorCode::kSignatureInvalid;
  HostResult<openssl::Pkey> key = openssl::public_key_from_raw(algorithm, public_key);
  if (!key.ok()) {
    openssl::clear_errors();
    return key.error().code;
  }

  std::vector<unsigned char> encoded;
  const EVP_MD* digest = nullptr;  // Ed25519 hashes internally
  if (algorithm == SignatureAlgorithm::kEcdsaP256Sha256) {
    HostResult<std::vector<unsigned char>> der = openssl::ecdsa_raw_to_der(signature);
    if (!der.ok()) {
      openssl::clear_errors();
      return ErrorCode::kSignatureInvalid;
    }
    encoded = std::move(der).value();
    digest = EVP_sha256();
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
    encoded.assign(p, p + signature.size());
  }

  if (is_rsa(algorithm)) digest = EVP_sha256();
  openssl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  const bool valid =
      ctx && EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, digest, nullptr, key->get()) == 1 &&
      (!is_rsa(algorithm) || openssl::use_rsa_pss(pkey_ctx).ok()) &&
      EVP_DigestVerify(ctx.get(), encoded.data(), encoded.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  // A signature that does not verify is an answer, not a fault: leave no error
  // behind for the next, unrelated OpenSSL call to report.
  openssl::clear_errors();
  return valid ? ok_result() : Result<void>(ErrorCode::kSignatureInvalid);
}

}  // namespace updraft
