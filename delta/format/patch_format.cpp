#include "delta/format/patch_format.h"

#include <algorithm>

#include "core/codec.h"
#include "core/crc32.h"
#include "delta/format/op_model.h"

namespace updraft::delta {
namespace {

// Frame sizes trade resume granularity (work lost on a power cut) against the
// cost of re-learning the models, which restart at each frame.
constexpr ModelParams v1_shape(std::uint8_t lit, std::uint8_t diff, std::uint32_t frame_size) {
  ModelParams p;
  p.lit_ctx_bits = lit;
  p.diff_ctx_bits = diff;
  p.frame_size = frame_size;
  return p;
}

constexpr ProfileInfo kProfiles[] = {
    {Profile::kMcuTiny, "mcu-tiny", 8 * 1024, v1_shape(2, 3, 64 * 1024)},
    {Profile::kMcu, "mcu", 32 * 1024, v1_shape(5, 3, 128 * 1024)},
    {Profile::kLinux, "linux", 4 * 1024 * 1024, v1_shape(8, 3, 1024 * 1024)},
};

}  // namespace

const ProfileInfo* find_profile(std::string_view name) {
  for (const ProfileInfo& p : kProfiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ProfileInfo& profile_info(Profile profile) {
  return kProfiles[static_cast<std::size_t>(profile)];
}

std::string_view profile_name(std::uint8_t profile) {
  return profile < std::size(kProfiles) ? kProfiles[profile].name : std::string_view("custom");
}

std::uint32_t workspace_bytes(const ModelParams& params) {
  return static_cast<std::uint32_t>(kInputBufferBytes + kOldBufferBytes + kOutputBufferBytes +
                                    OpModel::storage_bytes(params));
}

std::uint32_t workspace_bytes(const ModelParams& params, std::uint32_t reloc_count) {
  return workspace_bytes(params) +
         (reloc_count == 0 ? 0 : static_cast<std::uint32_t>(kRelocWindowBytes) + 8 * reloc_count);
}

void encode_header(const PatchHeader& h, std::span<std::byte, kHeaderSize> out) {
  std::byte* p = out.data();
  std::copy(kMagic.begin(), kMagic.end(), p);
  p[4] = std::byte{h.version};
  p[5] = std::byte{h.profile};
  p[6] = std::byte{h.codec};
  p[7] = std::byte{h.params.lit_ctx_bits};
  p[8] = std::byte{h.params.diff_ctx_bits};
  p[9] = std::byte{h.params.pos_ctx_bits};
  // Version 1 reserved these two bytes as zero.
  p[10] = std::byte{h.version == 1 ? std::uint8_t{0} : h.params.lit_pos_bits};
  p[11] = std::byte{h.version == 1 ? std::uint8_t{0} : h.params.diff_pos_bits};
  store_le32(p + 12, h.params.frame_size);
  store_le32(p + 16, h.workspace_bytes);
  store_le32(p + 20, h.old_size);
  store_le32(p + 24, h.new_size);
  std::copy(h.old_hash.begin(), h.old_hash.end(), p + 28);
  std::copy(h.new_hash.begin(), h.new_hash.end(), p + 60);
  store_le32(p + kHeaderSize - 4, crc32(ByteView(p, kHeaderSize - 4)));
}

Result<PatchHeader> decode_header(std::span<const std::byte, kHeaderSize> bytes) {
  const std::byte* p = bytes.data();
  if (!std::equal(kMagic.begin(), kMagic.end(), p)) return ErrorCode::kPatchBadMagic;
  if (load_le32(p + kHeaderSize - 4) != crc32(ByteView(p, kHeaderSize - 4))) {
    return ErrorCode::kPatchHeaderChecksum;
  }
  PatchHeader h;
  h.version = std::to_integer<std::uint8_t>(p[4]);
  h.profile = std::to_integer<std::uint8_t>(p[5]);
  h.codec = std::to_integer<std::uint8_t>(p[6]);
  if (h.version < kOldestFormatVersion || h.version > kFormatVersion ||
      h.codec != kCodecContextRange) {
    return ErrorCode::kPatchUnsupportedVersion;
  }
  h.params.lit_ctx_bits = std::to_integer<std::uint8_t>(p[7]);
  h.params.diff_ctx_bits = std::to_integer<std::uint8_t>(p[8]);
  h.params.pos_ctx_bits = std::to_integer<std::uint8_t>(p[9]);
  const auto byte10 = std::to_integer<std::uint8_t>(p[10]);
  const auto byte11 = std::to_integer<std::uint8_t>(p[11]);
  bool reserved_ok = true;
  if (h.version == 1) {
    reserved_ok = byte10 == 0 && byte11 == 0;
    h.params.diff_pos_bits = h.params.pos_ctx_bits;
  } else {
    h.params.lit_pos_bits = byte10;
    h.params.diff_pos_bits = byte11;
    h.params.adaptive_rate = true;
  }
  h.params.frame_size = load_le32(p + 12);
  h.workspace_bytes = load_le32(p + 16);
  h.old_size = load_le32(p + 20);
  h.new_size = load_le32(p + 24);
  std::copy(p + 28, p + 60, h.old_hash.begin());
  std::copy(p + 60, p + kHeaderSize - 4, h.new_hash.begin());
  const bool params_ok =
      h.params.lit_ctx_bits <= kMaxLitCtxBits && h.params.diff_ctx_bits <= kMaxDiffCtxBits &&
      h.params.pos_ctx_bits <= kMaxPosCtxBits && h.params.diff_pos_bits <= kMaxPosCtxBits &&
      h.params.lit_pos_bits <= kMaxPosCtxBits && h.params.frame_size >= kMinFrameSize &&
      h.params.frame_size % kOutputBufferBytes == 0;
  if (!reserved_ok || !params_ok || h.old_size > kMaxImageSize || h.new_size > kMaxImageSize ||
      h.workspace_bytes < workspace_bytes(h.params)) {
    return ErrorCode::kPatchCorrupt;
  }
  if (h.workspace_bytes != workspace_bytes(h.params)) {
    // Only version 2 has a relocation block, of 1 to kMaxRelocEntries whole entries
    // (a workspace short of the window wraps around to a huge map).
    const std::uint32_t map_bytes = h.workspace_bytes - workspace_bytes(h.params) -
                                    static_cast<std::uint32_t>(kRelocWindowBytes);
    if (h.version == 1 || map_bytes == 0 || map_bytes % 8 != 0 ||
        map_bytes / 8 > kMaxRelocEntries) {
      return ErrorCode::kPatchCorrupt;
    }
    h.reloc_count = map_bytes / 8;
  }
  return h;
}

}  // namespace updraft::delta
