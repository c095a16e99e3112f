#include "crypto/host/signing_key.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <memory>

namespace updraft {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

// Without a callback OpenSSL takes the user data as the password. An empty one makes
// an encrypted key fail to load, where a null one would prompt on the terminal.
char kNoPassword[] = "";

Bio memory_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::string_view algorithm_name(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      return "ed25519";
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return "p256";
    case SignatureAlgorithm::kRsa2048PssSha256:
      return "rsa-2048-pss";
    case SignatureAlgorithm::kRsa3072PssSha256:
      return "rsa-3072-pss";
  }
  return "unknown";
}

HostResult<SignatureAlgorithm> algorithm_from_name(std::string_view name) {
  if (name == "ed25519") return SignatureAlgorithm::kEd25519;
  if (name == "p256" || name == "ecdsa-p256") return SignatureAlgorithm::kEcdsaP256Sha256;
  if (name == "rsa-2048-pss") return SignatureAlgorithm::kRsa2048PssSha256;
  if (name == "rsa-3072-pss") return SignatureAlgorithm::kRsa3072PssSha256;
  return Error(ErrorCode::kInvalidArgument,
               "unknown algorithm '" + std::string(name) +
                   "': ed25519, p256 (or ecdsa-p256), rsa-2048-pss, rsa-3072-pss");
}

HostResult<PublicKey> public_key_from_pem(std::string_view pem) {
  Bio bio = memory_bio(pem);
  openssl::Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // Not a public key; a private key file names its public key too.
    openssl::clear_errors();
    bio = memory_bio(pem);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, kNoPassword));
  }
  if (!key) return openssl::error(ErrorCode::kInvalidArgument, "not a PEM public or private key");
  UPDRAFT_TRY_ASSIGN(const SignatureAlgorithm algorithm, openssl::algorithm_of(key.get()));
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> raw, openssl::raw_public_key(key.get(), algorithm));
  return PublicKey{algorithm, std::move(raw)};
}

HostResult<std::string> public_key_to_pem(const PublicKey& key) {
  HostResult<openssl::Pkey> pkey = openssl::public_key_from_raw(key.algorithm, key.bytes);
  if (!pkey.ok())
    return Error(ErrorCode::kInvalidArgument, "invalid public key: " + pkey.error().message);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey->get()) != 1) {
    return openssl::error(ErrorCode::kInternal, "cannot encode the public key as PEM");
  }
  return bio_text(bio.get());
}

HostResult<SigningKey> SigningKey::from_pkey(openssl::Pkey key) {
  UPDRAFT_TRY_ASSIGN(const SignatureAlgorithm algorithm, openssl::algorithm_of(key.get()));
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> raw, openssl::raw_public_key(key.get(), algorithm));
  SigningKey result;
  result.key_ = std::move(key);
  result.public_key_ = PublicKey{algorithm, std::move(raw)};
  return result;
}

HostResult<SigningKey> SigningKey::generate(SignatureAlgorithm algorithm) {
  EVP_PKEY* key = nullptr;
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case SignatureAlgorithm::kEcdsaP256Sha256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case SignatureAlgorithm::kRsa2048PssSha256:
    case SignatureAlgorithm::kRsa3072PssSha256:
      // OpenSSL's default public exponent is 65537, the one manifests assume.
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{8} * public_key_size(algorithm));
      break;
  }
  if (key == nullptr) return openssl::error(ErrorCode::kInternal, "key generation failed");
  return from_pkey(openssl::Pkey(key));
}

HostResult<SigningKey> SigningKey::from_pem(std::string_view pem) {
  Bio bio = memory_bio(pem);
  openssl::Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, kNoPassword));
  if (!key)
    return openssl::error(ErrorCode::kInvalidArgument, "not an unencrypted PEM private key");
  return from_pkey(std::move(key));
}

HostResult<std::string> SigningKey::to_pem() const {
  if (!key_) return Error(ErrorCode::kInvalidArgument, "no key");
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl::error(ErrorCode::kInternal, "cannot encode the private key as PEM");
  }
  return bio_text(bio.get());
}

HostResult<std::vector<std::byte>> SigningKey::sign(ByteView message) const {
  if (!key_) return Error(ErrorCode::kInvalidArgument, "no key");
  openssl::MdCtx ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally (digest must be null); ECDSA and RSA-PSS sign
  // SHA-256(message).
  const EVP_MD* digest = algorithm() == SignatureAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pkey_ctx, digest, nullptr, key_.get()) != 1) {
    return openssl::error(ErrorCode::kInternal, "cannot start signing");
  }
  if (is_rsa(algorithm())) UPDRAFT_TRY(openssl::use_rsa_pss(pkey_ctx));
  if (EVP_DigestSign(ctx.get(), nullptr, &size, data, message.size()) != 1) {
    return openssl::error(ErrorCode::kInternal, "cannot start signing");
  }
  std::vector<std::byte> signature(size);
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     message.size()) != 1) {
    return openssl::error(ErrorCode::kInternal, "signing failed");
  }
  signature.resize(size);
  if (algorithm() == SignatureAlgorithm::kEcdsaP256Sha256)
    return openssl::ecdsa_der_to_raw(signature);
  return signature;
}

}  // namespace updraft
