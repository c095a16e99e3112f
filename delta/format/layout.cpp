#include "delta/format/layout.h"

#include <cstring>

#include "core/codec.h"
#include "core/crc32.h"
#include "delta/format/patch_format.h"

namespace updraft::delta {

bool is_layout_block(ByteView bytes) {
  return bytes.size() >= kLayoutMagic.size() &&
         std::memcmp(bytes.data(), kLayoutMagic.data(), kLayoutMagic.size()) == 0;
}

std::size_t layout_block_size(std::size_t old_count, std::size_t new_count) {
  return kLayoutHeadSize + kLayoutEntrySize * (old_count + new_count) + 4;
}

std::uint64_t total_size(std::span<const SegmentSpan> segments) {
  std::uint64_t total = 0;
  for (const SegmentSpan& s : segments) total += s.size;
  return total;
}

Result<void> check_segments(std::span<const SegmentSpan> segments) {
  if (segments.size() > kMaxLayoutSegments) return ErrorCode::kPatchCorrupt;
  std::uint64_t next_free = 0;
  for (const SegmentSpan& s : segments) {
    const std::uint64_t end = std::uint64_t{s.address} + s.size;
    if (s.size == 0 || s.address < next_free || end > (std::uint64_t{1} << 32)) {
      return ErrorCode::kPatchCorrupt;
    }
    next_free = end;
  }
  if (total_size(segments) > kMaxImageSize) return ErrorCode::kPatchCorrupt;
  return {};
}

Result<std::size_t> encode_layout(std::span<const SegmentSpan> old_segments,
                                  std::span<const SegmentSpan> new_segments, MutableByteView out) {
  const std::size_t size = layout_block_size(old_segments.size(), new_segments.size());
  if (!check_segments(old_segments).ok() || !check_segments(new_segments).ok() ||
      out.size() < size) {
    return ErrorCode::kInvalidArgument;
  }
  std::memcpy(out.data(), kLayoutMagic.data(), kLayoutMagic.size());
  out[4] = std::byte{kLayoutVersion};
  out[5] = std::byte{0};
  out[6] = std::byte(old_segments.size());
  out[7] = std::byte(new_segments.size());
  std::byte* p = out.data() + kLayoutHeadSize;
  const auto put = [&p](std::span<const SegmentSpan> table) {
    for (const SegmentSpan& s : table) {
      store_le32(p, s.address);
      store_le32(p + 4, s.size);
      p += kLayoutEntrySize;
    }
  };
  put(old_segments);
  put(new_segments);
  store_le32(p, crc32(ByteView(out.data(), size - 4)));
  return size;
}

Result<LayoutCounts> decode_layout(ByteView bytes, std::span<SegmentSpan> old_out,
                                   std::span<SegmentSpan> new_out) {
  if (bytes.size() < kLayoutMagic.size()) return ErrorCode::kPatchTruncated;
  if (!is_layout_block(bytes)) return ErrorCode::kPatchBadMagic;
  if (bytes.size() < kLayoutHeadSize) return ErrorCode::kPatchTruncated;
  if (bytes[4] != std::byte{kLayoutVersion}) return ErrorCode::kPatchUnsupportedVersion;
  LayoutCounts counts;
  counts.old_count = std::to_integer<std::uint8_t>(bytes[6]);
  counts.new_count = std::to_integer<std::uint8_t>(bytes[7]);
  if (bytes[5] != std::byte{0} || counts.old_count > kMaxLayoutSegments ||
      counts.new_count > kMaxLayoutSegments) {
    return ErrorCode::kPatchCorrupt;
  }
  const std::size_t size = counts.block_size();
  if (bytes.size() < size) return ErrorCode::kPatchTruncated;
  if (crc32(bytes.first(size - 4)) != load_le32(bytes.data() + size - 4)) {
    return ErrorCode::kPatchCorrupt;
  }
  if (old_out.size() < counts.old_count || new_out.size() < counts.new_count) {
    return ErrorCode::kPatchCorrupt;
  }
  const std::byte* p = bytes.data() + kLayoutHeadSize;
  for (std::size_t i = 0; i < counts.old_count + counts.new_count; ++i, p += kLayoutEntrySize) {
    SegmentSpan& s = i < counts.old_count ? old_out[i] : new_out[i - counts.old_count];
    s = {load_le32(p), load_le32(p + 4)};
  }
  UPDRAFT_TRY(check_segments(old_out.first(counts.old_count)));
  UPDRAFT_TRY(check_segments(new_out.first(counts.new_count)));
  return counts;
}

}  // namespace updraft::delta
