// A streaming reader of the tar archives a Mender artifact is made of (POSIX
// ustar, with the PAX `path` and `size` records Go's archive/tar writes for long
// names and large files). Regular files only: directories are skipped, and links,
// devices and GNU extensions are refused, since an artifact has no use for them.
// Host only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/host/error.h"
#include "server/mender/streams.h"

namespace updraft::server::mender {

struct TarEntry {
  std::string name;
  std::uint64_t size = 0;
};

class TarReader {
 public:
  // `what` names the archive in errors, e.g. "header.tar.gz".
  TarReader(ByteSource& source, std::string what) : source_(source), what_(std::move(what)) {}

  // The next file, after skipping what is left of the current one; nullopt at the
  // archive's end (two zero blocks). kApiBadRequest naming the archive for a bad
  // header checksum, a size that is not octal, an entry type it refuses, or an
  // archive that ends without its end blocks.
  HostResult<std::optional<TarEntry>> next();

  // The current file's contents (ends where the file does).
  ByteSource& contents() { return *window_; }

 private:
  HostResult<void> skip_rest();

  ByteSource& source_;
  std::string what_;
  std::optional<WindowSource> window_;
  std::uint64_t padding_ = 0;  // after the current file, to the next 512-byte block
};

}  // namespace updraft::server::mender
