#include "agent/testing/fault_flash.h"

#include <vector>

namespace updraft::agent {

void FaultFlash::cut_power_after(std::uint64_t ops) { cut_at_ = ops_ + ops + 1; }

bool FaultFlash::cut_now() {
  if (cut_at_ != 0 && ops_ + 1 == cut_at_) {
    powered_ = false;
    cut_at_ = 0;
    return true;
  }
  return false;
}

Result<void> FaultFlash::read(std::uint32_t offset, MutableByteView out) {
  if (!powered_) return ErrorCode::kFlashPowerLost;
  return inner_.read(offset, out);
}

Result<void> FaultFlash::write(std::uint32_t offset, ByteView data) {
  if (!powered_) return ErrorCode::kFlashPowerLost;
  if (cut_now()) {
    // Program an aligned prefix: what a real part has done when the supply drops.
    const std::uint32_t align = inner_.geometry().write_align;
    const std::size_t half = data.size() / 2 / align * align;
    if (half > 0) (void)inner_.write(offset, data.first(half));
    return ErrorCode::kFlashPowerLost;
  }
  UPDRAFT_TRY(inner_.write(offset, data));
  ++ops_;
  return {};
}

Result<void> FaultFlash::erase(std::uint32_t offset, std::uint32_t length) {
  if (!powered_) return ErrorCode::kFlashPowerLost;
  if (cut_now()) {
    // An erase cut short: the first sector ends half erased, half old contents
    // (a partially erased part reads as a mix), and the later sectors are untouched.
    const FlashGeometry g = inner_.geometry();
    std::vector<std::byte> old(g.sector_size);
    if (inner_.read(offset, old).ok() && inner_.erase(offset, g.sector_size).ok()) {
      const std::size_t keep = g.sector_size / 2 / g.write_align * g.write_align;
      (void)inner_.write(offset, ByteView(old.data(), keep));
    }
    return ErrorCode::kFlashPowerLost;
  }
  UPDRAFT_TRY(inner_.erase(offset, length));
  ++ops_;
  return {};
}

}  // namespace updraft::agent
