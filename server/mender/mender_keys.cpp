#include "server/mender/mender_keys.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <vector>

#include "crypto/host/openssl.h"

namespace updraft::server::mender {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

constexpr int kMinRsaBits = 2048;

HostResult<openssl::Pkey> read_public_key(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openssl::error(ErrorCode::kInternal, "cannot read a key");
  openssl::Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    openssl::clear_errors();
    return Error(ErrorCode::kApiBadRequest, "pubkey: not a PEM public key");
  }
  return key;
}

HostResult<std::string> kind_of(EVP_PKEY* key) {
  switch (EVP_PKEY_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_bits(key) < kMinRsaBits)
        return Error(ErrorCode::kApiBadRequest, "pubkey: an RSA key of fewer than 2048 bits");
      return std::string("rsa");
    case EVP_PKEY_EC:
      return std::string("ecdsa");
    case EVP_PKEY_ED25519:
      return std::string("ed25519");
    default:
      return Error(ErrorCode::kApiBadRequest, "pubkey: not an RSA, ECDSA or Ed25519 key");
  }
}

// mender-artifact writes ECDSA signatures as r || s, each the curve's size; the
// Go client's may be DER. OpenSSL takes DER.
std::vector<unsigned char> ecdsa_as_der(EVP_PKEY* key, ByteView signature) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  std::vector<unsigned char> given(bytes, bytes + signature.size());
  const int scalar = (EVP_PKEY_bits(key) + 7) / 8;
  if (static_cast<int>(signature.size()) != 2 * scalar) return given;
  BIGNUM* r = BN_bin2bn(bytes, scalar, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + scalar, scalar, nullptr);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return given;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return given;
  std::vector<unsigned char> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

}  // namespace

HostResult<std::string> public_key_kind(std::string_view pem) {
  UPDRAFT_TRY_ASSIGN(const openssl::Pkey key, read_public_key(pem));
  return kind_of(key.get());
}

HostResult<std::string> canonical_public_key(std::string_view pem) {
  UPDRAFT_TRY_ASSIGN(const openssl::Pkey key, read_public_key(pem));
  UPDRAFT_TRY(kind_of(key.get()));
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
    return openssl::error(ErrorCode::kInternal, "cannot write a key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

HostResult<void> verify_signature(std::string_view pem, ByteView message, ByteView signature) {
  UPDRAFT_TRY_ASSIGN(const openssl::Pkey key, read_public_key(pem));
  UPDRAFT_TRY_ASSIGN(const std::string kind, kind_of(key.get()));
  std::vector<unsigned char> sig(
      reinterpret_cast<const unsigned char*>(signature.data()),
      reinterpret_cast<const unsigned char*>(signature.data()) + signature.size());
  if (kind == "ecdsa") sig = ecdsa_as_der(key.get(), signature);
  openssl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return openssl::error(ErrorCode::kInternal, "cannot verify");
  const EVP_MD* digest = kind == "ed25519" ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key.get()) != 1)
    return openssl::error(ErrorCode::kInternal, "cannot verify with a " + kind + " key");
  const int verified =
      EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size());
  openssl::clear_errors();
  if (verified != 1)
    return Error(ErrorCode::kSignatureInvalid,
                 "the signature does not verify with the " + kind + " key");
  return {};
}

}  // namespace updraft::server::mender
