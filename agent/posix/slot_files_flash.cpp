#include "agent/posix/slot_files_flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/posix/nor_rules.h"
#include "core/host/file.h"

namespace updraft::agent {
namespace {

bool fill_erased(int fd, std::uint64_t offset, std::uint64_t length) {
  static const std::vector<std::byte> erased(64 * 1024, std::byte{0xFF});
  while (length > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length, erased.size()));
    if (!write_at(fd, erased.data(), n, offset)) return false;
    offset += n;
    length -= n;
  }
  return true;
}

// Opens `path` (a file or a block device); a missing file is created erased with
// `create_bytes` bytes when that is not 0. Returns the fd and the store's size.
HostResult<std::pair<int, std::uint64_t>> open_store(const std::string& path,
                                                     std::uint64_t create_bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create_bytes != 0) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0 && !fill_erased(fd, 0, create_bytes)) {
      ::close(fd);
      ::unlink(path.c_str());
      return Error(ErrorCode::kFlashIo, "cannot initialise " + path + ": " + std::strerror(errno));
    }
  }
  if (fd < 0)
    return Error(ErrorCode::kFlashIo, "cannot open " + path + ": " + std::strerror(errno));
  // lseek gives the size of a block device too, where st_size is 0.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    ::close(fd);
    return Error(ErrorCode::kFlashIo, "cannot size " + path + ": " + std::strerror(errno));
  }
  return std::make_pair(fd, static_cast<std::uint64_t>(size));
}

}  // namespace

HostResult<std::unique_ptr<SlotFilesFlash>> SlotFilesFlash::open(const Paths& paths,
                                                                 std::uint64_t create_slot_bytes) {
  if (create_slot_bytes % kSectorSize != 0) {
    return Error(ErrorCode::kFlashLayoutInvalid,
                 "slot size must be a multiple of " + std::to_string(kSectorSize) + " bytes");
  }
  std::unique_ptr<SlotFilesFlash> flash(new SlotFilesFlash());
  const std::string* names[3] = {&paths.slot_a, &paths.slot_b, &paths.state};
  std::uint64_t sizes[3] = {};
  for (int i = 0; i < 3; ++i) {
    UPDRAFT_TRY_ASSIGN(auto opened, open_store(*names[i], i < 2 ? create_slot_bytes : kStateBytes));
    flash->fd_[i] = opened.first;
    sizes[i] = opened.second;
  }
  if (sizes[0] != sizes[1]) {
    return Error(ErrorCode::kFlashLayoutInvalid,
                 paths.slot_a + " has " + std::to_string(sizes[0]) + " bytes and " + paths.slot_b +
                     " " + std::to_string(sizes[1]) + ": slots must match");
  }
  const std::uint64_t total = 2 * sizes[0] + kStateBytes;
  if (sizes[0] == 0 || sizes[0] % kSectorSize != 0 || total > UINT32_MAX) {
    return Error(ErrorCode::kFlashLayoutInvalid,
                 paths.slot_a + ": a slot must be a non-empty multiple of " +
                     std::to_string(kSectorSize) + " bytes, below 2 GiB");
  }
  if (sizes[2] != kStateBytes) {
    return Error(ErrorCode::kFlashLayoutInvalid, paths.state + " has " + std::to_string(sizes[2]) +
                                                     " bytes, expected " +
                                                     std::to_string(kStateBytes));
  }
  flash->slot_bytes_ = static_cast<std::uint32_t>(sizes[0]);
  flash->geometry_ =
      FlashGeometry{static_cast<std::uint32_t>(total), kSectorSize, 1, std::byte{0xFF}};
  Result<FlashLayout> layout = plan_layout(flash->geometry_, flash->slot_bytes_);
  if (!layout.ok()) return Error(layout.error(), "no layout fits the slot files");
  flash->layout_ = *layout;
  return flash;
}

SlotFilesFlash::~SlotFilesFlash() {
  for (int fd : fd_) {
    if (fd >= 0) ::close(fd);
  }
}

template <typename Op>
Result<void> SlotFilesFlash::for_each_piece(std::uint32_t offset, std::size_t length, Op op) {
  std::uint64_t at = offset;
  const std::uint64_t end = at + length;
  while (at < end) {
    const int store = at < slot_bytes_ ? 0 : at < 2ull * slot_bytes_ ? 1 : 2;
    const std::uint64_t base = static_cast<std::uint64_t>(store) * slot_bytes_;
    const std::uint64_t limit = store < 2 ? base + slot_bytes_ : geometry_.size;
    const std::uint64_t n = std::min(end, limit) - at;
    UPDRAFT_TRY(op(Piece{store, at - base, static_cast<std::size_t>(n)},
                   static_cast<std::size_t>(at - offset)));
    at += n;
  }
  return {};
}

Result<void> SlotFilesFlash::sync_slots() {
  for (int i = 0; i < 2; ++i) {
    if (!dirty_[i]) continue;
    if (::fdatasync(fd_[i]) != 0) return ErrorCode::kFlashIo;
    dirty_[i] = false;
  }
  return {};
}

Result<void> SlotFilesFlash::read(std::uint32_t offset, MutableByteView out) {
  UPDRAFT_TRY(check_read(geometry_, offset, out.size()));
  return for_each_piece(offset, out.size(), [&](const Piece& p, std::size_t done) -> Result<void> {
    if (!read_at(fd_[p.store], out.data() + done, p.length, p.offset)) return ErrorCode::kFlashIo;
    return {};
  });
}

Result<void> SlotFilesFlash::write(std::uint32_t offset, ByteView data) {
  UPDRAFT_TRY(check_write(geometry_, offset, data.size()));
  return for_each_piece(offset, data.size(), [&](const Piece& p, std::size_t done) -> Result<void> {
    const std::byte* bytes = data.data() + done;
    if (p.store == 2) {
      std::vector<std::byte> current(p.length);
      if (!read_at(fd_[2], current.data(), p.length, p.offset)) return ErrorCode::kFlashIo;
      UPDRAFT_TRY(check_erased(geometry_, current));
      UPDRAFT_TRY(sync_slots());
    }
    if (!write_at(fd_[p.store], bytes, p.length, p.offset)) return ErrorCode::kFlashIo;
    if (p.store == 2) {
      if (::fdatasync(fd_[2]) != 0) return ErrorCode::kFlashIo;
    } else {
      dirty_[p.store] = true;
    }
    return {};
  });
}

Result<void> SlotFilesFlash::erase(std::uint32_t offset, std::uint32_t length) {
  UPDRAFT_TRY(check_erase(geometry_, offset, length));
  return for_each_piece(offset, length, [&](const Piece& p, std::size_t) -> Result<void> {
    if (p.store == 2) UPDRAFT_TRY(sync_slots());
    if (!fill_erased(fd_[p.store], p.offset, p.length)) return ErrorCode::kFlashIo;
    if (p.store == 2) {
      if (::fdatasync(fd_[2]) != 0) return ErrorCode::kFlashIo;
    } else {
      dirty_[p.store] = true;
    }
    return {};
  });
}

}  // namespace updraft::agent
