#include "crypto/host/openssl.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstring>
#include <string_view>

namespace updraft::openssl {
namespace {

constexpr std::size_t kP256ScalarSize = 32;

struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using EcdsaSig = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamsFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

// An RSA key's algorithm from its modulus size and exponent; kInvalidArgument for
// the sizes and exponents manifests do not carry.
HostResult<SignatureAlgorithm> rsa_algorithm_of(EVP_PKEY* key) {
  BIGNUM* e = nullptr;
  const int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    return error(ErrorCode::kInvalidArgument, "RSA key without a public exponent");
  }
  const Bn exponent(e);
  if (!BN_is_word(exponent.get(), kRsaPublicExponent)) {
    return Error(ErrorCode::kInvalidArgument,
                 "RSA key with a public exponent other than 65537; make one with "
                 "`updraft keygen --algorithm rsa-3072-pss`");
  }
  if (bits == 2048) return SignatureAlgorithm::kRsa2048PssSha256;
  if (bits == 3072) return SignatureAlgorithm::kRsa3072PssSha256;
  return Error(ErrorCode::kInvalidArgument,
               "RSA key of " + std::to_string(bits) + " bits; only 2048 and 3072 are supported");
}

const unsigned char* uchars(ByteView bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// A public RSA key from our encoding: the modulus, and the fixed exponent. A
// modulus without its top bit set, or an even one, is no key of the stated size.
HostResult<Pkey> rsa_public_key(ByteView raw) {
  if (raw.empty() || (std::to_integer<unsigned>(raw[0]) & 0x80u) == 0 ||
      (std::to_integer<unsigned>(raw[raw.size() - 1]) & 1u) == 0) {
    return Error(ErrorCode::kSignatureInvalid, "not an RSA modulus of the stated size");
  }
  const Bn n(BN_bin2bn(uchars(raw), static_cast<int>(raw.size()), nullptr));
  const Bn e(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> build(OSSL_PARAM_BLD_new());
  if (!n || !e || !build || BN_set_word(e.get(), kRsaPublicExponent) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return error(ErrorCode::kInternal, "cannot build an RSA key");
  }
  std::unique_ptr<OSSL_PARAM, ParamsFree> params(OSSL_PARAM_BLD_to_param(build.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return error(ErrorCode::kSignatureInvalid, "not an RSA public key");
  }
  return Pkey(key);
}

}  // namespace

Error error(ErrorCode code, const std::string& what) {
  // The earliest entry is the root cause; the later ones are the call chain above it.
  const unsigned long first = ERR_get_error();
  clear_errors();
  if (first == 0) return Error(code, what);
  char reason[256];
  ERR_error_string_n(first, reason, sizeof reason);
  return Error(code, what + ": " + reason);
}

void clear_errors() { ERR_clear_error(); }

HostResult<SignatureAlgorithm> algorithm_of(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") == 1) return SignatureAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(key, "RSA") == 1) return rsa_algorithm_of(key);
  if (EVP_PKEY_is_a(key, "EC") == 1) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) != 1) {
      return error(ErrorCode::kInvalidArgument, "EC key without a named curve");
    }
    const std::string_view name(group, length);
    if (name == "prime256v1" || name == "P-256") return SignatureAlgorithm::kEcdsaP256Sha256;
    clear_errors();
    return Error(ErrorCode::kInvalidArgument,
                 "EC key on curve " + std::string(name) + "; only P-256 is supported");
  }
  clear_errors();
  return Error(ErrorCode::kInvalidArgument, std::string("unsupported key type ") +
                                                EVP_PKEY_get0_type_name(key) +
                                                "; use Ed25519, P-256 or RSA");
}

HostResult<std::vector<std::byte>> raw_public_key(EVP_PKEY* key, SignatureAlgorithm algorithm) {
  std::vector<std::byte> raw(public_key_size(algorithm));
  std::size_t length = raw.size();
  if (algorithm == SignatureAlgorithm::kEd25519) {
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) !=
        1) {
      return error(ErrorCode::kInternal, "cannot read the Ed25519 public key");
    }
  } else if (is_rsa(algorithm)) {
    // The modulus, big-endian, padded to the key's size (its top bit is set, so
    // the padding is nothing for a key of exactly 2048 or 3072 bits).
    BIGNUM* n = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
      return error(ErrorCode::kInternal, "cannot read the RSA modulus");
    }
    const Bn modulus(n);
    if (BN_bn2binpad(modulus.get(), reinterpret_cast<unsigned char*>(raw.data()),
                     static_cast<int>(raw.size())) != static_cast<int>(raw.size())) {
      return error(ErrorCode::kInternal, "RSA modulus does not fit its key size");
    }
  } else {
    // A key loaded from a file may prefer the compressed form; manifests always
    // carry the uncompressed one, so every device decodes the same way.
    if (EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                       OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1 ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        reinterpret_cast<unsigned char*>(raw.data()), raw.size(),
                                        &length) != 1) {
      return error(ErrorCode::kInternal, "cannot read the P-256 public key");
    }
  }
  if (length != raw.size()) return Error(ErrorCode::kInternal, "public key has an unexpected size");
  return raw;
}

HostResult<Pkey> public_key_from_raw(SignatureAlgorithm algorithm, ByteView raw) {
  if (public_key_size(algorithm) == 0) return Error(ErrorCode::kSignatureAlgorithmUnsupported);
  if (raw.size() != public_key_size(algorithm)) {
    return Error(ErrorCode::kSignatureInvalid, "public key has the wrong size for its algorithm");
  }
  if (algorithm == SignatureAlgorithm::kEd25519) {
    Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, uchars(raw), raw.size()));
    if (!key) return error(ErrorCode::kSignatureInvalid, "not an Ed25519 public key");
    return key;
  }
  if (is_rsa(algorithm)) return rsa_public_key(raw);
  // OpenSSL decodes the point with EC_POINT_oct2point, which refuses points off the curve.
  char group[] = "P-256";
  std::vector<unsigned char> point(uchars(raw), uchars(raw) + raw.size());
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
          1) {
    return error(ErrorCode::kSignatureInvalid, "not a P-256 public key");
  }
  return Pkey(key);
}

HostResult<void> use_rsa_pss(EVP_PKEY_CTX* ctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
    return error(ErrorCode::kInternal, "cannot set RSASSA-PSS parameters");
  }
  return {};
}

HostResult<std::vector<std::byte>> ecdsa_der_to_raw(ByteView der) {
  const unsigned char* p = uchars(der);
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return error(ErrorCode::kInternal, "OpenSSL returned an undecodable ECDSA signature");
  std::vector<std::byte> raw(2 * kP256ScalarSize);
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kP256ScalarSize) != kP256ScalarSize ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kP256ScalarSize, kP256ScalarSize) !=
          kP256ScalarSize) {
    return error(ErrorCode::kInternal, "ECDSA signature component does not fit 32 bytes");
  }
  return raw;
}

HostResult<std::vector<unsigned char>> ecdsa_raw_to_der(ByteView raw) {
  if (raw.size() != 2 * kP256ScalarSize)
    return Error(ErrorCode::kSignatureInvalid, "ECDSA signature is not 64 bytes");
  BIGNUM* r = BN_bin2bn(uchars(raw), kP256ScalarSize, nullptr);
  BIGNUM* s = BN_bin2bn(uchars(raw) + kP256ScalarSize, kP256ScalarSize, nullptr);
  EcdsaSig sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return error(ErrorCode::kInternal, "cannot build an ECDSA signature");
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return error(ErrorCode::kInternal, "cannot encode an ECDSA signature");
  std::vector<unsigned char> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

}  // namespace updraft::openssl
