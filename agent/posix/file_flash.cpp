#include "agent/posix/file_flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/posix/nor_rules.h"
#include "core/host/file.h"

namespace updraft::agent {

HostResult<std::unique_ptr<FileFlash>> FileFlash::open(const std::string& path,
                                                       FlashGeometry geometry, bool sync) {
  if (geometry.sector_size == 0 || geometry.write_align == 0 ||
      geometry.size % geometry.sector_size != 0) {
    return Error(ErrorCode::kFlashLayoutInvalid,
                 "flash size must be a multiple of the sector size");
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Error(ErrorCode::kFlashIo, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Error(ErrorCode::kFlashIo, "cannot stat " + path);
  }
  if (st.st_size == 0) {
    const std::vector<std::byte> erased(geometry.sector_size, geometry.erased_value);
    for (std::uint32_t off = 0; off < geometry.size; off += geometry.sector_size) {
      if (!write_at(fd, erased.data(), erased.size(), off)) {
        ::close(fd);
        return Error(ErrorCode::kFlashIo, "cannot initialise " + path);
      }
    }
  } else if (static_cast<std::uint64_t>(st.st_size) != geometry.size) {
    ::close(fd);
    return Error(ErrorCode::kFlashLayoutInvalid, path + " has " + std::to_string(st.st_size) +
                                                     " bytes, expected " +
                                                     std::to_string(geometry.size));
  }
  if (sync && ::fdatasync(fd) != 0) {
    ::close(fd);
    return Error(ErrorCode::kFlashIo, "cannot sync " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<FileFlash>(new FileFlash(fd, geometry, sync));
}

FileFlash::~FileFlash() { ::close(fd_); }

Result<void> FileFlash::read(std::uint32_t offset, MutableByteView out) {
  UPDRAFT_TRY(check_read(geometry_, offset, out.size()));
  if (!read_at(fd_, out.data(), out.size(), offset)) return ErrorCode::kFlashIo;
  return {};
}

Result<void> FileFlash::write(std::uint32_t offset, ByteView data) {
  UPDRAFT_TRY(check_write(geometry_, offset, data.size()));
  std::vector<std::byte> current(data.size());
  if (!read_at(fd_, current.data(), current.size(), offset)) return ErrorCode::kFlashIo;
  UPDRAFT_TRY(check_erased(geometry_, current));
  if (!write_at(fd_, data.data(), data.size(), offset)) return ErrorCode::kFlashIo;
  if (sync_ && ::fdatasync(fd_) != 0) return ErrorCode::kFlashIo;
  return {};
}

Result<void> FileFlash::erase(std::uint32_t offset, std::uint32_t length) {
  UPDRAFT_TRY(check_erase(geometry_, offset, length));
  const std::vector<std::byte> erased(geometry_.sector_size, geometry_.erased_value);
  for (std::uint32_t off = offset; off < offset + length; off += geometry_.sector_size) {
    if (!write_at(fd_, erased.data(), erased.size(), off)) return ErrorCode::kFlashIo;
  }
  if (sync_ && ::fdatasync(fd_) != 0) return ErrorCode::kFlashIo;
  return {};
}

}  // namespace updraft::agent
