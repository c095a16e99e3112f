// The meter's Flash port: an external NOR flash emulated over a host file through
// Arm semihosting file I/O. It enforces what a NOR driver enforces
// (agent/port/flash.h): erase by whole sectors to 0xFF, program only erased bytes,
// word-aligned writes. A write over a byte that is not erased fails with
// kFlashNotErased and changes nothing. The file outlives QEMU, so a reset (QEMU
// started again) or a power cut (QEMU killed) finds the flash as the last
// completed operation left it.
//
// RAM: this object (24 bytes); stack < 150 bytes (a 64-byte chunk checks that a
// write's target is erased).
#pragma once

#include <cstdint>

#include "agent/port/flash.h"

namespace updraft::meter {

class SemihostingFlash final : public agent::Flash {
 public:
  // Opens the host file `path`, which must hold exactly geometry.size bytes;
  // kFlashIo otherwise. Call once before anything else.
  Result<void> open(const char* path, const agent::FlashGeometry& geometry);

  agent::FlashGeometry geometry() const override { return geometry_; }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;
  Result<void> write(std::uint32_t offset, ByteView data) override;
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override;

 private:
  Result<void> check_range(std::uint32_t offset, std::size_t length) const;
  Result<void> seek(std::uint32_t offset);
  Result<void> read_at(std::uint32_t offset, MutableByteView out);

  int handle_ = -1;
  agent::FlashGeometry geometry_{};
  std::uint32_t position_ = 0;  // the host file's position, to skip needless seeks
};

}  // namespace updraft::meter
