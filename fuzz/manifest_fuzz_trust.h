// The fixed trust the manifest fuzz target checks against and its seeds are signed
// with: test keys (published here, so never trust them anywhere), root v1 built from
// them, and the device the check-in answers are for. Host only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/host/signing_key.h"
#include "crypto/sha256.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::manifest::fuzz {

// Root v1's root key, the root key v2 rotates to, and v1's two release keys.
inline constexpr const char* kRootKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJlLoLcmVneN76fimGq5YjyzSWo7HFUlZQhXnUjUcHqr\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kNextRootKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBCA+6qdtgIzkFFV0Q4kS4RQCKnLvCnHg3wi7bf+XfVf\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kReleaseKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIPgD1mUTdM4K8AijG9sYeJIgGpAYDmk3GHZp3l7ERYAE\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kReleaseP256KeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgX3XWivW06A2Aznlk\n"
    "asJhMVeAWQlGdzLFeelxT6+hxEKhRANCAATjBoWBn7dLj/11kRsnx0zsDWQKwOxM\n"
    "ZIPyF5zuTqAkkT8PabrC8851x5+Dn5Y+Gt3lL/1EtqpbVd1RaWWzeM1p\n"
    "-----END PRIVATE KEY-----\n";

// The fuzz device: what it runs and what it sent with its check-in.
inline constexpr const char* kProduct = "fuzz-thermostat";
inline constexpr const char* kHardware = "fuzz-board-b";
inline constexpr std::uint32_t kCounter = 3;
inline constexpr const char* kInstalled = "1.4.0";
inline constexpr std::uint64_t kNow = 1'750'000'000;
inline constexpr std::uint64_t kNonce = 0x0123456789ABCDEF;
inline constexpr const char* kRunningImage = "the image the fuzz device runs";

struct Trust {
  SigningKey root;
  SigningKey next_root;
  SigningKey release;
  SigningKey release_p256;
  std::vector<std::byte> root_v1_bytes{};
  RootMetadata root_v1{};  // points into root_v1_bytes
  DeviceState device{};
  CheckIn check_in{kNow, kNonce};
};

inline SigningKey fuzz_key(const char* pem) {
  HostResult<SigningKey> key = SigningKey::from_pem(pem);
  if (!key.ok()) {
    std::fprintf(stderr, "manifest fuzz: %s\n", key.error().to_string().c_str());
    std::abort();
  }
  return std::move(key).value();
}

// Built once; the same bytes every run (Ed25519 signatures are deterministic).
inline const Trust& trust() {
  static const Trust* t = [] {
    auto* built = new Trust{fuzz_key(kRootKeyPem), fuzz_key(kNextRootKeyPem),
                            fuzz_key(kReleaseKeyPem), fuzz_key(kReleaseP256KeyPem)};
    RootSpec spec;
    spec.version = 1;
    spec.root_keys = {built->root.public_key()};
    spec.release_keys = {built->release.public_key(), built->release_p256.public_key()};
    HostResult<std::vector<std::byte>> region = encode_root(spec);
    HostResult<std::vector<std::byte>> bytes =
        region.ok() ? sign_metadata(*region, {&built->root})
                    : HostResult<std::vector<std::byte>>(region.error());
    if (!bytes.ok()) std::abort();
    built->root_v1_bytes = std::move(bytes).value();
    if (!parse_root(built->root_v1_bytes, built->root_v1).ok()) std::abort();
    static const Sha256Digest running =
        Sha256::digest(as_bytes_view(kRunningImage, std::strlen(kRunningImage)));
    built->device.product = kProduct;
    built->device.hardware = kHardware;
    built->device.security_counter = kCounter;
    built->device.installed_version = parse_semver(kInstalled).value();
    built->device.running_image_hash = running;
    return built;
  }();
  return *t;
}

}  // namespace updraft::manifest::fuzz
