// Byte streams for reading a Mender artifact without holding it in memory: a
// file, bytes in memory, a window of another stream (one tar entry), and gzip
// decompression (zlib) of another stream. Host only; not thread-safe.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::server::mender {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to out.size() bytes; 0 only at the end of the stream. Errors name what
  // was read (kApiBadRequest for malformed data, kIoError for the file).
  virtual HostResult<std::size_t> read(std::span<std::byte> out) = 0;

  // Exactly out.size() bytes, or kApiBadRequest "<what>: ends early".
  HostResult<void> read_exactly(std::span<std::byte> out, const std::string& what);
  // Reads and drops everything left.
  HostResult<void> drain();
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteView bytes) : bytes_(bytes) {}
  HostResult<std::size_t> read(std::span<std::byte> out) override;

 private:
  ByteView bytes_;
  std::size_t at_ = 0;
};

class FileSource final : public ByteSource {
 public:
  // kIoError naming the reason (never the path: it may be a server's).
  static HostResult<std::unique_ptr<FileSource>> open(const std::string& path);
  ~FileSource() override;
  HostResult<std::size_t> read(std::span<std::byte> out) override;

 private:
  explicit FileSource(std::FILE* file) : file_(file) {}
  std::FILE* file_;
};

// The next `size` bytes of `inner`: one tar entry's contents.
class WindowSource final : public ByteSource {
 public:
  WindowSource(ByteSource& inner, std::uint64_t size) : inner_(inner), left_(size) {}
  HostResult<std::size_t> read(std::span<std::byte> out) override;
  std::uint64_t left() const { return left_; }

 private:
  ByteSource& inner_;
  std::uint64_t left_;
};

// At most `max` bytes of `inner`, which may end sooner; more is kApiBadRequest
// naming `what` (a gzip bomb stops here).
class CappedSource final : public ByteSource {
 public:
  CappedSource(ByteSource& inner, std::uint64_t max, std::string what)
      : inner_(inner), left_(max), max_(max), what_(std::move(what)) {}
  HostResult<std::size_t> read(std::span<std::byte> out) override;

 private:
  ByteSource& inner_;
  std::uint64_t left_;
  std::uint64_t max_;
  std::string what_;
};

// gzip-decompresses `inner`; a stream that is not gzip, is corrupt or ends
// early is kApiBadRequest naming `what`. Bytes after the gzip member are refused.
class GzipSource final : public ByteSource {
 public:
  GzipSource(ByteSource& inner, std::string what);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  HostResult<std::size_t> read(std::span<std::byte> out) override;

 private:
  ByteSource& inner_;
  std::string what_;
  z_stream z_{};
  bool ready_ = false;  // inflateInit2 succeeded
  bool ended_ = false;
  std::vector<std::byte> in_;
};

}  // namespace updraft::server::mender
