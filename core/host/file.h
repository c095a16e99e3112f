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

}  // namespace updraft
