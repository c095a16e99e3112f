// The signed metadata formats, version 1 — see docs/formats/manifest.md.
// Portable: constants and limits only; no heap.
//
// Both kinds share one envelope (little-endian):
//   magic (4) | format version (1) | reserved = 0 (1) | body size (2) | body
//   | signature count (1) | signatures: key id (8) | algorithm (1) | signature
// A signature has its algorithm's size: 64 bytes Ed25519 and ECDSA P-256, 256 and 384
// bytes RSA-2048 and RSA-3072 PSS (signature_size()). The signatures cover the signed
// region: everything before the signature count.
// The magic ("UPDM" release manifest, "UPDR" root metadata) is inside it, so a
// signature made for one kind never verifies as the other.
//
// Manifest body:
//   product (len 1 + text) | hardware count (1) | hardware ids (len 1 + text each)
//   | version (len 1 + semver text) | security counter (4) | flags (1)
//   | image size (4) | image sha256 (32)
//   | [flags & delta]    source image sha256 (32) | patch size (4) | patch sha256 (32)
//   | [flags & check-in] expires (8, unix seconds) | nonce (8)
//
// Root body:
//   root version (4) | expires (8, unix seconds, 0 = never) | root threshold (1)
//   | release threshold (1) | root key count (1) | release key count (1)
//   | revoked count (1) | keys: algorithm (1) | public key (32, 65, 256 or 384), root keys first
//   | revoked key ids (8 each)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/signature_verifier.h"

namespace updraft::manifest {

using Magic = std::array<std::byte, 4>;
inline constexpr Magic kManifestMagic = {std::byte{'U'}, std::byte{'P'}, std::byte{'D'},
                                         std::byte{'M'}};
inline constexpr Magic kRootMagic = {std::byte{'U'}, std::byte{'P'}, std::byte{'D'},
                                     std::byte{'R'}};
inline constexpr std::uint8_t kFormatVersion = 1;

inline constexpr std::size_t kHeaderSize = 4 + 1 + 1 + 2;
inline constexpr std::size_t kKeyIdSize = 8;
// An entry with a 64-byte signature (Ed25519, ECDSA P-256); an RSA entry is
// kKeyIdSize + 1 + signature_size(algorithm).
inline constexpr std::size_t kSignatureEntrySize = kKeyIdSize + 1 + kSignatureSize;

// Text fields: printable ASCII without space (0x21..0x7E), 1..max bytes.
inline constexpr std::size_t kMaxProductSize = 32;
inline constexpr std::size_t kMaxHardwareIdSize = 32;
inline constexpr std::size_t kMaxHardwareIds = 8;
// Fits the agent's 24-byte version text with its NUL (agent/port/transport.h).
inline constexpr std::size_t kMaxVersionSize = 23;

inline constexpr std::size_t kMaxManifestSignatures = 4;
inline constexpr std::size_t kMaxRootSignatures = 8;
inline constexpr std::size_t kMaxSignatures = kMaxRootSignatures;  // capacity of a SignatureList
inline constexpr std::size_t kMaxKeysPerRole = 8;
inline constexpr std::size_t kMaxRevokedKeys = 16;

// Manifest flags; the other bits must be zero.
inline constexpr std::uint8_t kFlagDelta =
    1u << 0;  // a delta: source hash, patch size and hash follow
inline constexpr std::uint8_t kFlagCheckIn = 1u << 1;  // a check-in answer: expiry and nonce follow
inline constexpr std::uint8_t kFlagAllowDowngrade =
    1u << 2;  // operator allows installing an older version
inline constexpr std::uint8_t kKnownFlags = kFlagDelta | kFlagCheckIn | kFlagAllowDowngrade;

inline constexpr std::size_t kMaxManifestBodySize =
    (1 + kMaxProductSize) + 1 + kMaxHardwareIds * (1 + kMaxHardwareIdSize) + (1 + kMaxVersionSize) +
    4 + 1 + 4 + 32 + (32 + 4 + 32) + (8 + 8);
inline constexpr std::size_t kMaxRootBodySize = 4 + 8 + 1 + 1 + 1 + 1 + 1 +
                                                2 * kMaxKeysPerRole * (1 + kMaxPublicKeySize) +
                                                kMaxRevokedKeys * kKeyIdSize;

// The largest valid files; a device sizes its buffers with these. A manifest is
// also at most 1 KiB in all, the agent's check-in buffer (kMaxManifestBytes): with
// 64-byte signatures the limits above keep it there (kMaxEccManifestSize), with RSA
// signatures this limit counts (two RSA-3072 signatures on a typical manifest).
inline constexpr std::size_t kMaxManifestSize = 1024;
inline constexpr std::size_t kMaxEccManifestSize =
    kHeaderSize + kMaxManifestBodySize + 1 + kMaxManifestSignatures * kSignatureEntrySize;
static_assert(kMaxEccManifestSize <= kMaxManifestSize,
              "a manifest signed with 64-byte signatures always fits the check-in buffer");
// Root metadata with only Ed25519 and P-256 keys and signatures is at most
// kMaxEccRootSize (1,794) bytes; with RSA-3072 keys and signatures, kMaxRootSize.
inline constexpr std::size_t kMaxRootSize =
    kHeaderSize + kMaxRootBodySize + 1 + kMaxRootSignatures * (kKeyIdSize + 1 + kMaxSignatureSize);
inline constexpr std::size_t kMaxEccRootSize =
    kHeaderSize + (kMaxRootBodySize - 2 * kMaxKeysPerRole * (kMaxPublicKeySize - 65)) + 1 +
    kMaxRootSignatures * kSignatureEntrySize;
static_assert(kMaxEccRootSize == 1794);
static_assert(kMaxRootSize == 9458);

}  // namespace updraft::manifest
