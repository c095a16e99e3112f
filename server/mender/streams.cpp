#include "server/mender/streams.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace updraft::server::mender {
namespace {

Error bad(const std::string& message) { return Error(ErrorCode::kApiBadRequest, message); }

}  // namespace

HostResult<void> ByteSource::read_exactly(std::span<std::byte> out, const std::string& what) {
  std::size_t done = 0;
  while (done < out.size()) {
    UPDRAFT_TRY_ASSIGN(const std::size_t n, read(out.subspan(done)));
    if (n == 0) return bad(what + ": ends early");
    done += n;
  }
  return {};
}

HostResult<void> ByteSource::drain() {
  std::byte buffer[16384];
  for (;;) {
    UPDRAFT_TRY_ASSIGN(const std::size_t n, read(buffer));
    if (n == 0) return {};
  }
}

HostResult<std::size_t> MemorySource::read(std::span<std::byte> out) {
  const std::size_t n = std::min(out.size(), bytes_.size() - at_);
  std::memcpy(out.data(), bytes_.data() + at_, n);
  at_ += n;
  return n;
}

HostResult<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return Error(ErrorCode::kIoError,
                 std::string("cannot open the artifact: ") + std::strerror(errno));
  return std::unique_ptr<FileSource>(new FileSource(file));
}

FileSource::~FileSource() { std::fclose(file_); }

HostResult<std::size_t> FileSource::read(std::span<std::byte> out) {
  const std::size_t n = std::fread(out.data(), 1, out.size(), file_);
  if (n == 0 && std::ferror(file_))
    return Error(ErrorCode::kIoError,
                 std::string("cannot read the artifact: ") + std::strerror(errno));
  return n;
}

HostResult<std::size_t> WindowSource::read(std::span<std::byte> out) {
  if (left_ == 0 || out.empty()) return std::size_t{0};
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), left_));
  UPDRAFT_TRY_ASSIGN(const std::size_t n, inner_.read(out.first(want)));
  if (n == 0) return bad("tar entry: ends early");
  left_ -= n;
  return n;
}

HostResult<std::size_t> CappedSource::read(std::span<std::byte> out) {
  if (out.empty()) return std::size_t{0};
  if (left_ == 0) {
    std::byte probe[1];
    UPDRAFT_TRY_ASSIGN(const std::size_t more, inner_.read(probe));
    if (more != 0) return bad(what_ + ": more than " + std::to_string(max_) + " bytes");
    return std::size_t{0};
  }
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), left_));
  UPDRAFT_TRY_ASSIGN(const std::size_t n, inner_.read(out.first(want)));
  left_ -= n;
  return n;
}

GzipSource::GzipSource(ByteSource& inner, std::string what)
    : inner_(inner), what_(std::move(what)), in_(16384) {
  // 16 + MAX_WBITS: a gzip wrapper, not zlib's or raw deflate.
  ready_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
}

GzipSource::~GzipSource() {
  if (ready_) inflateEnd(&z_);
}

HostResult<std::size_t> GzipSource::read(std::span<std::byte> out) {
  if (!ready_) return Error(ErrorCode::kInternal, what_ + ": zlib did not start");
  if (ended_ || out.empty()) return std::size_t{0};
  z_.next_out = reinterpret_cast<Bytef*>(out.data());
  const auto room = static_cast<uInt>(std::min<std::size_t>(out.size(), 1u << 30));
  z_.avail_out = room;
  while (z_.avail_out == room) {  // until some bytes come out, or the stream ends
    if (z_.avail_in == 0) {
      UPDRAFT_TRY_ASSIGN(const std::size_t n, inner_.read(in_));
      if (n == 0) return bad(what_ + ": the gzip stream ends early");
      z_.next_in = reinterpret_cast<Bytef*>(in_.data());
      z_.avail_in = static_cast<uInt>(n);
    }
    const int status = inflate(&z_, Z_NO_FLUSH);
    if (status == Z_STREAM_END) {
      ended_ = true;
      std::byte extra[1];
      UPDRAFT_TRY_ASSIGN(const std::size_t more, inner_.read(extra));
      if (z_.avail_in != 0 || more != 0) return bad(what_ + ": bytes after the gzip stream");
      break;
    }
    if (status != Z_OK) {
      return bad(what_ + ": not a valid gzip stream (" + (z_.msg ? z_.msg : "zlib error") + ")");
    }
  }
  return std::size_t{room - z_.avail_out};
}

}  // namespace updraft::server::mender
