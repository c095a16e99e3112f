#include "agent/cortex_m/meter/semihosting_flash.h"

#include <algorithm>
#include <array>

#include "agent/cortex_m/semihosting.h"

namespace updraft::meter {
namespace {

using cortex_m::FileMode;

// What an erase writes, a run at a time.
constexpr auto kErasedRun = [] {
  std::array<std::byte, 64> run{};
  run.fill(std::byte{0xFF});
  return run;
}();

}  // namespace

Result<void> SemihostingFlash::open(const char* path, const agent::FlashGeometry& geometry) {
  handle_ = cortex_m::semihosting_open(path, FileMode::kReadWrite);
  if (handle_ < 0) return ErrorCode::kFlashIo;
  const std::int32_t length = cortex_m::semihosting_file_length(handle_);
  if (length < 0 || static_cast<std::uint32_t>(length) != geometry.size ||
      geometry.erased_value != std::byte{0xFF}) {
    cortex_m::semihosting_close(handle_);
    handle_ = -1;
    return ErrorCode::kFlashIo;
  }
  geometry_ = geometry;
  position_ = 0;
  return {};
}

Result<void> SemihostingFlash::check_range(std::uint32_t offset, std::size_t length) const {
  if (handle_ < 0) return ErrorCode::kFlashIo;
  if (offset > geometry_.size || length > geometry_.size - offset)
    return ErrorCode::kFlashOutOfRange;
  return {};
}

Result<void> SemihostingFlash::seek(std::uint32_t offset) {
  if (offset == position_) return {};
  if (!cortex_m::semihosting_seek(handle_, offset)) return ErrorCode::kFlashIo;
  position_ = offset;
  return {};
}

Result<void> SemihostingFlash::read_at(std::uint32_t offset, MutableByteView out) {
  UPDRAFT_TRY(seek(offset));
  // After a failed transfer the position is unknown: seek next time.
  position_ = ~0u;
  if (!cortex_m::semihosting_read(handle_, out)) return ErrorCode::kFlashIo;
  position_ = offset + static_cast<std::uint32_t>(out.size());
  return {};
}

Result<void> SemihostingFlash::read(std::uint32_t offset, MutableByteView out) {
  UPDRAFT_TRY(check_range(offset, out.size()));
  if (out.empty()) return {};
  return read_at(offset, out);
}

Result<void> SemihostingFlash::write(std::uint32_t offset, ByteView data) {
  UPDRAFT_TRY(check_range(offset, data.size()));
  if (offset % geometry_.write_align != 0 || data.size() % geometry_.write_align != 0)
    return ErrorCode::kFlashMisaligned;
  // A NOR cell only goes from 1 to 0; the driver refuses to program a byte twice.
  std::array<std::byte, 64> current;
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t n = std::min(current.size(), data.size() - done);
    UPDRAFT_TRY(
        read_at(offset + static_cast<std::uint32_t>(done), MutableByteView(current.data(), n)));
    for (std::size_t i = 0; i < n; ++i) {
      if (current[i] != geometry_.erased_value) return ErrorCode::kFlashNotErased;
    }
    done += n;
  }
  if (data.empty()) return {};
  UPDRAFT_TRY(seek(offset));
  position_ = ~0u;
  if (!cortex_m::semihosting_write(handle_, data)) return ErrorCode::kFlashIo;
  position_ = offset + static_cast<std::uint32_t>(data.size());
  return {};
}

Result<void> SemihostingFlash::erase(std::uint32_t offset, std::uint32_t length) {
  UPDRAFT_TRY(check_range(offset, length));
  if (offset % geometry_.sector_size != 0 || length % geometry_.sector_size != 0)
    return ErrorCode::kFlashMisaligned;
  UPDRAFT_TRY(seek(offset));
  position_ = ~0u;
  for (std::uint32_t done = 0; done < length;) {
    const std::uint32_t n = std::min<std::uint32_t>(kErasedRun.size(), length - done);
    if (!cortex_m::semihosting_write(handle_, ByteView(kErasedRun.data(), n)))
      return ErrorCode::kFlashIo;
    done += n;
  }
  position_ = offset + length;
  return {};
}

}  // namespace updraft::meter
