// The Updraft patch container, versions 1 and 2 — see docs/formats/patch.md.
// Portable: constants, the header codec and the profile table; no heap.
//
// Header (96 bytes, little-endian):
//   magic "UPDP" (4) | version (1) | profile (1) | codec (1) | lit_ctx_bits (1)
//   | diff_ctx_bits (1) | pos_ctx_bits (1) | lit_pos_bits (1) | diff_pos_bits (1)
//   | frame_size (4) | workspace_bytes (4)
//   | old_size (4) | new_size (4) | old_sha256 (32) | new_sha256 (32) | header_crc32 (4)
// Version 2: when workspace_bytes exceeds what the model shape needs, the extra is
// kRelocWindowBytes + 8 per layout-map entry, and a relocation block follows the
// header: arch (1) | reserved (3) | base (4) | entries (varints) | crc32 (4).
// Then ceil(new_size / frame_size) frames, each: payload_size (4) | payload_crc32 (4) | payload.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::delta {

inline constexpr std::array<std::byte, 4> kMagic = {std::byte{'U'}, std::byte{'P'}, std::byte{'D'},
                                                    std::byte{'P'}};
// Version 2 adds fast-start probabilities and position contexts for literals;
// version 1 patches still apply. The encoder writes kFormatVersion unless told.
inline constexpr std::uint8_t kFormatVersion = 2;
inline constexpr std::uint8_t kOldestFormatVersion = 1;
inline constexpr std::uint8_t kCodecContextRange = 1;  // the only codec so far
inline constexpr std::size_t kHeaderSize =
    4 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 4 + 4 + 4 + 4 + 32 + 32 + 4;
inline constexpr std::size_t kFrameHeaderSize = 4 + 4;

// Limits that keep every decoded value inside 32-bit arithmetic on the device.
inline constexpr std::uint32_t kMaxImageSize = 0x7FFF0000u;
inline constexpr std::uint32_t kMinFrameSize = 256;
inline constexpr std::uint8_t kMaxLitCtxBits = 8;
inline constexpr std::uint8_t kMaxDiffCtxBits = 8;
inline constexpr std::uint8_t kMaxPosCtxBits = 2;  // each of the three position contexts

// Buffers the patcher keeps in the workspace besides the probability models.
inline constexpr std::size_t kInputBufferBytes = 128;
inline constexpr std::size_t kOldBufferBytes = 256;
inline constexpr std::size_t kOutputBufferBytes = 256;
// The most patch bytes one decoding step (one op header or one byte) can consume.
inline constexpr std::size_t kMaxStepInput = 64;

// Relocation prediction (version 2): the raw old window predict() reads, and the
// map, 8 bytes per entry, both in the workspace.
inline constexpr std::size_t kRelocWindowBytes = kOldBufferBytes + 16;
inline constexpr std::size_t kRelocBlockHeadSize = 8;
inline constexpr std::uint32_t kMaxRelocEntries = 1u << 16;

// A sanity bound on a frame's payload, so a corrupt size field fails at once
// instead of waiting for bytes that never come. Real payloads are far smaller.
constexpr std::uint64_t max_payload_size(std::uint32_t frame_length) {
  return std::uint64_t{frame_length} * 4 + 1024;
}

enum class Profile : std::uint8_t { kMcuTiny = 0, kMcu = 1, kLinux = 2 };

// Model shape and framing a profile selects. The header records these fields, so
// a decoder never guesses them from the profile id.
// Version 1 has no lit_pos_bits (0), uses pos_ctx_bits for diff_pos_bits too,
// and has no adaptive rate; decode_header() fills them in so.
struct ModelParams {
  std::uint8_t lit_ctx_bits = 0;   // literal context: top bits of the previous new byte
  std::uint8_t diff_ctx_bits = 0;  // diff-byte context: top bits of the last non-zero diff
  std::uint8_t pos_ctx_bits = 0;   // zero/repeat flags: low bits of the new position
  std::uint8_t diff_pos_bits = 0;  // diff-byte tree: low bits of the new position
  std::uint8_t lit_pos_bits = 0;   // literal tree: low bits of the new position
  bool adaptive_rate = false;      // probabilities start fast (version 2)
  std::uint32_t frame_size = 0;    // new-image bytes per frame (checkpoint interval)

  friend bool operator==(const ModelParams&, const ModelParams&) = default;
};

struct ProfileInfo {
  Profile profile;
  std::string_view name;
  std::uint32_t workspace_limit;  // the budget a device of this class offers
  ModelParams params;             // the version 1 shape; the encoder picks version 2 shapes
};

// mcu-tiny <= 8 KB, mcu <= 32 KB, linux unbounded but modest.
const ProfileInfo* find_profile(std::string_view name);
const ProfileInfo& profile_info(Profile profile);
std::string_view profile_name(std::uint8_t profile);

// Bytes of workspace the patcher needs for these model params (models + buffers).
std::uint32_t workspace_bytes(const ModelParams& params);
// ... and with a relocation map of `reloc_count` entries (0: none).
std::uint32_t workspace_bytes(const ModelParams& params, std::uint32_t reloc_count);

struct PatchHeader {
  std::uint8_t version = kFormatVersion;
  std::uint8_t profile = 0;
  std::uint8_t codec = kCodecContextRange;
  ModelParams params;
  std::uint32_t workspace_bytes = 0;
  std::uint32_t old_size = 0;
  std::uint32_t new_size = 0;
  std::array<std::byte, 32> old_hash{};
  std::array<std::byte, 32> new_hash{};
  // Layout-map entries in the relocation block; 0 means there is none. Not a field
  // of its own: workspace_bytes carries it (see the layout above).
  std::uint32_t reloc_count = 0;

  std::uint32_t frame_count() const {
    return new_size == 0 ? 0 : (new_size - 1) / params.frame_size + 1;
  }
  std::uint32_t frame_length(std::uint32_t index) const {
    const std::uint32_t start = index * params.frame_size;
    const std::uint32_t left = new_size - start;
    return left < params.frame_size ? left : params.frame_size;
  }
};

// Writes kHeaderSize bytes, CRC included. A version 1 header must carry a
// version 1 shape (see ModelParams).
void encode_header(const PatchHeader& header, std::span<std::byte, kHeaderSize> out);

// Parses and validates a header (either version): magic (100), version/codec (104), CRC (108),
// and that every field is within the format's limits (102).
Result<PatchHeader> decode_header(std::span<const std::byte, kHeaderSize> bytes);

}  // namespace updraft::delta
