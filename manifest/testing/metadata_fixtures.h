// Keys, roots and manifests for tests and for the fuzz seed corpus: a small fleet's
// worth of trust set up in a few lines, so each test states only what differs.
// Host only; a failing helper aborts with the error, since a test cannot go on.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/host/openssl_verifier.h"
#include "crypto/host/signing_key.h"
#include "crypto/sha256.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::manifest::testing {

template <typename T>
T must(HostResult<T> result) {
  if (!result.ok()) {
    std::fprintf(stderr, "fixture failed: %s\n", result.error().to_string().c_str());
    std::abort();
  }
  return std::move(result).value();
}

template <typename T>
T must(Result<T> result) {
  if (!result.ok()) {
    std::fprintf(stderr, "fixture failed: %s\n", std::string(error_name(result.error())).c_str());
    std::abort();
  }
  return std::move(result).value();
}

inline SigningKey new_key(SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519) {
  return must(SigningKey::generate(algorithm));
}

// Keys generated once per process: key generation is the slow part of a test.
struct Keys {
  SigningKey root_a = new_key();
  SigningKey root_b = new_key();
  SigningKey root_c = new_key(SignatureAlgorithm::kEcdsaP256Sha256);
  SigningKey root_d = new_key();
  SigningKey release_a = new_key();
  SigningKey release_b = new_key(SignatureAlgorithm::kEcdsaP256Sha256);
  SigningKey release_c = new_key();
  SigningKey stranger = new_key();
};

inline const Keys& keys() {
  static const Keys k;
  return k;
}

// RSA-PSS keys, made on first use only (RSA-3072 takes a second or more).
struct RsaKeys {
  SigningKey root = new_key(SignatureAlgorithm::kRsa3072PssSha256);
  SigningKey release = new_key(SignatureAlgorithm::kRsa2048PssSha256);
  SigningKey release_3072 = new_key(SignatureAlgorithm::kRsa3072PssSha256);
};

inline const RsaKeys& rsa_keys() {
  static const RsaKeys k;
  return k;
}

inline std::vector<PublicKey> public_keys(const std::vector<const SigningKey*>& keys) {
  std::vector<PublicKey> out;
  for (const SigningKey* k : keys) out.push_back(k->public_key());
  return out;
}

// Root v1: root keys a and b (threshold 1), release key a (threshold 1).
inline RootSpec root_v1_spec() {
  RootSpec spec;
  spec.version = 1;
  spec.root_threshold = 1;
  spec.release_threshold = 1;
  spec.root_keys = public_keys({&keys().root_a, &keys().root_b});
  spec.release_keys = public_keys({&keys().release_a});
  return spec;
}

inline std::vector<std::byte> sign_root(const RootSpec& spec,
                                        const std::vector<const SigningKey*>& signers) {
  return must(sign_metadata(must(encode_root(spec)), signers));
}

inline std::vector<std::byte> root_v1() { return sign_root(root_v1_spec(), {&keys().root_a}); }

inline const std::vector<std::byte>& image_v2() {
  static const std::vector<std::byte> image(3000, std::byte{0x5A});
  return image;
}
inline const std::vector<std::byte>& image_v1() {
  static const std::vector<std::byte> image(2500, std::byte{0xA5});
  return image;
}
inline const std::vector<std::byte>& patch_v1_to_v2() {
  static const std::vector<std::byte> patch(400, std::byte{0x33});
  return patch;
}

inline constexpr std::uint64_t kNow = 1'750'000'000;  // unix seconds, mid-2025
inline constexpr std::uint64_t kNonce = 0x1122334455667788;

// A check-in answer for product "acme-thermostat" on "board-rev-b"/"board-rev-c":
// version 2.1.0, security counter 5, full image image_v2(), valid for 5 minutes.
inline ManifestSpec answer_spec() {
  ManifestSpec spec;
  spec.product = "acme-thermostat";
  spec.hardware = {"board-rev-b", "board-rev-c"};
  spec.version = "2.1.0";
  spec.security_counter = 5;
  spec.image_size = static_cast<std::uint32_t>(image_v2().size());
  spec.image_hash = Sha256::digest(image_v2());
  spec.check_in = Freshness{kNow + 300, kNonce};
  return spec;
}

// answer_spec() as a delta from image_v1().
inline ManifestSpec delta_answer_spec() {
  ManifestSpec spec = answer_spec();
  spec.delta =
      DeltaInfo{Sha256::digest(image_v1()), static_cast<std::uint32_t>(patch_v1_to_v2().size()),
                Sha256::digest(patch_v1_to_v2())};
  return spec;
}

inline std::vector<std::byte> sign_manifest(const ManifestSpec& spec,
                                            const std::vector<const SigningKey*>& signers) {
  return must(sign_metadata(must(encode_manifest(spec)), signers));
}

// The device that answer_spec() is for: it runs image_v1() as 2.0.0, counter 5.
struct Device {
  std::string product = "acme-thermostat";
  std::string hardware = "board-rev-c";
  std::uint32_t counter = 5;
  std::string installed = "2.0.0";
  Sha256Digest running = Sha256::digest(image_v1());
  std::uint64_t now = kNow;
  std::uint64_t nonce = kNonce;
};

// Everything a device checks, on bytes as they arrive: parse both, then verify.
inline Result<void> device_accepts(const std::vector<std::byte>& manifest_bytes,
                                   const std::vector<std::byte>& root_bytes,
                                   const Device& device = Device{}) {
  UPDRAFT_TRY_ASSIGN(const RootMetadata root, parse_root(root_bytes));
  UPDRAFT_TRY_ASSIGN(const Manifest manifest, parse_manifest(manifest_bytes));
  DeviceState state;
  state.product = device.product;
  state.hardware = device.hardware;
  state.security_counter = device.counter;
  state.installed_version = must(parse_semver(device.installed));
  state.running_image_hash = device.running;
  OpenSslVerifier verifier;
  return verify_manifest(manifest, root, verifier, state, CheckIn{device.now, device.nonce});
}

// Root rotation as a device runs it on the bytes it holds and receives.
inline Result<void> device_rotates(const std::vector<std::byte>& trusted_bytes,
                                   const std::vector<std::byte>& candidate_bytes) {
  UPDRAFT_TRY_ASSIGN(const RootMetadata trusted, parse_root(trusted_bytes));
  UPDRAFT_TRY_ASSIGN(const RootMetadata candidate, parse_root(candidate_bytes));
  OpenSslVerifier verifier;
  return verify_root_rotation(trusted, candidate, verifier);
}

}  // namespace updraft::manifest::testing
