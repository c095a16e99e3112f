// Whole-file helpers for host tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft {

HostResult<std::vector<std::byte>> read_file(const std::string& path);

// Writes to "<path>.tmp" then renames, so a crash never leaves a half-written file at `path`.
Result<void, Error> write_file_atomic(const std::string& path, ByteView data);

// pread/pwrite of all `n` bytes at `offset`, across short transfers and EINTR, for
// file-backed flash. False on an error (errno says which) or, reading, at end of file.
bool read_at(int fd, std::byte* out, std::size_t n, std::uint64_t offset);
bool write_at(int fd, const std::byte* data, std::size_t n, std::uint64_t offset);

// A file's bytes, mapped read-only where it can be (a regular file), else read
// into memory (a pipe). For images of hundreds of MB: the pages come from the
// page cache as they are touched, and release() hands them back, so a process
// that walks an image once need not hold it whole. The file must not change
// while mapped.
class MappedFile {
 public:
  static HostResult<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  ByteView bytes() const { return mapped_ != nullptr ? ByteView(mapped_, size_) : ByteView(read_); }
  // Drops the whole pages inside `range` (part of bytes()) from this process's
  // memory; touching them again reads them back. Does nothing for a read file.
  void release(ByteView range) const;

 private:
  std::byte* mapped_ = nullptr;
  std::size_t size_ = 0;
  std::vector<std::byte> read_;
};

}  // namespace updraft
