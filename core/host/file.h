// Whole-file helpers for host tools.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft {

HostResult<std::vector<std::byte>> read_file(const std::string& path);

// Writes to "<path>.tmp" then renames, so a crash never leaves a half-written file at `path`.
Result<void, Error> write_file_atomic(const std::string& path, ByteView data);

}  // namespace updraft
