// The patcher's image interfaces over flash slots (portable).
#pragma once

#include <cstdint>

#include "agent/flash_layout.h"
#include "agent/port/flash.h"
#include "crypto/sha256.h"
#include "delta/patch/image_io.h"

namespace updraft::agent {

// The running image, read at random offsets.
class SlotReader final : public delta::ImageReader {
 public:
  SlotReader(Flash& flash, std::uint32_t slot_offset, std::uint32_t image_size)
      : flash_(flash), base_(slot_offset), size_(image_size) {}
  std::uint32_t size() const override { return size_; }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;

 private:
  Flash& flash_;
  std::uint32_t base_;
  std::uint32_t size_;
};

// The new image, written front to back into the other slot. Sectors are erased
// just before the first write into them, so a resume from a checkpoint first
// erases whatever a cut-short run left past it. A write whose length is not a
// multiple of the flash's alignment is padded with the erased value; only the
// image's last write may be.
class SlotWriter final : public delta::ImageWriter {
 public:
  SlotWriter(Flash& flash, std::uint32_t slot_offset, std::uint32_t slot_size)
      : flash_(flash), base_(slot_offset), slot_size_(slot_size) {}

  // Everything from `offset` on is considered unerased (start or resume point,
  // a multiple of the sector size).
  void restart_at(std::uint32_t offset) { erased_until_ = offset; }
  // Continues at `offset` inside a sector whose bytes from `offset` on are known
  // to be erased: the bytes before it in that sector are kept.
  void continue_at(std::uint32_t offset, std::uint32_t sector_size) {
    erased_until_ = (offset + sector_size - 1) / sector_size * sector_size;
  }

  Result<void> write(std::uint32_t offset, ByteView data) override;

 private:
  Flash& flash_;
  std::uint32_t base_;
  std::uint32_t slot_size_;
  std::uint32_t erased_until_ = 0;
};

// SHA-256 of the first `size` bytes of a region: what the boot logic and the
// agent's verify step compare with the manifest.
Result<Sha256Digest> hash_region(Flash& flash, std::uint32_t offset, std::uint32_t size);

// True when every byte of [offset, offset + size) reads as the erased value.
Result<bool> region_erased(Flash& flash, std::uint32_t offset, std::uint32_t size);

}  // namespace updraft::agent
