#include "agent/slot_io.h"

#include <algorithm>

#include "crypto/sha256.h"

namespace updraft::agent {

Result<void> SlotReader::read(std::uint32_t offset, MutableByteView out) {
  if (offset > size_ || out.size() > size_ - offset) return ErrorCode::kFlashOutOfRange;
  return flash_.read(base_ + offset, out);
}

Result<void> SlotWriter::write(std::uint32_t offset, ByteView data) {
  const FlashGeometry g = flash_.geometry();
  const std::uint64_t end = std::uint64_t{offset} + data.size();
  if (end > slot_size_) return ErrorCode::kAgentImageTooLarge;
  while (erased_until_ < end) {
    const std::uint32_t sector_start = erased_until_ / g.sector_size * g.sector_size;
    UPDRAFT_TRY(flash_.erase(base_ + sector_start, g.sector_size));
    erased_until_ = sector_start + g.sector_size;
  }
  const std::size_t aligned = data.size() / g.write_align * g.write_align;
  if (aligned > 0) UPDRAFT_TRY(flash_.write(base_ + offset, data.first(aligned)));
  if (aligned < data.size()) {
    // The image's tail: pad to the write alignment with the erased value.
    std::byte tail[64];
    if (g.write_align > sizeof tail) return ErrorCode::kFlashMisaligned;
    std::fill_n(tail, g.write_align, g.erased_value);
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(aligned), data.end(), tail);
    UPDRAFT_TRY(flash_.write(base_ + offset + static_cast<std::uint32_t>(aligned),
                             ByteView(tail, g.write_align)));
  }
  return {};
}

Result<bool> region_erased(Flash& flash, std::uint32_t offset, std::uint32_t size) {
  const std::byte erased = flash.geometry().erased_value;
  std::byte chunk[64];
  for (std::uint32_t pos = 0; pos < size;) {
    const std::uint32_t n = std::min<std::uint32_t>(sizeof chunk, size - pos);
    UPDRAFT_TRY(flash.read(offset + pos, MutableByteView(chunk, n)));
    for (std::uint32_t i = 0; i < n; ++i) {
      if (chunk[i] != erased) return false;
    }
    pos += n;
  }
  return true;
}

Result<Sha256Digest> hash_region(Flash& flash, std::uint32_t offset, std::uint32_t size) {
  Sha256 hash;
  std::byte chunk[256];
  for (std::uint32_t pos = 0; pos < size;) {
    const std::uint32_t n = std::min<std::uint32_t>(sizeof chunk, size - pos);
    UPDRAFT_TRY(flash.read(offset + pos, MutableByteView(chunk, n)));
    hash.update(ByteView(chunk, n));
    pos += n;
  }
  return hash.finish();
}

}  // namespace updraft::agent
