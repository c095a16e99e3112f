#include "server/mender/tar_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace updraft::server::mender {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::uint64_t kMaxPaxBytes = 64 * 1024;

std::string field(const std::array<std::byte, kBlock>& block, std::size_t at, std::size_t size) {
  const char* p = reinterpret_cast<const char*>(block.data()) + at;
  return std::string(p, strnlen(p, size));
}

// A number field: octal digits, optionally space- or NUL-padded.
std::optional<std::uint64_t> octal(const std::array<std::byte, kBlock>& block, std::size_t at,
                                   std::size_t size) {
  std::string text = field(block, at, size);
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  text = text.substr(first);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool all_zero(const std::array<std::byte, kBlock>& block) {
  return std::all_of(block.begin(), block.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

HostResult<void> TarReader::skip_rest() {
  if (window_) UPDRAFT_TRY(window_->drain());
  std::array<std::byte, kBlock> pad{};
  UPDRAFT_TRY(source_.read_exactly(std::span(pad).first(static_cast<std::size_t>(padding_)),
                                   what_ + ": entry padding"));
  window_.reset();
  padding_ = 0;
  return {};
}

HostResult<std::optional<TarEntry>> TarReader::next() {
  UPDRAFT_TRY(skip_rest());
  std::optional<std::string> pax_path;
  // Not an optional: GCC 12 takes an optional integer here for uninitialized.
  std::uint64_t pax_size = 0;
  bool has_pax_size = false;
  for (;;) {
    std::array<std::byte, kBlock> block{};
    UPDRAFT_TRY(source_.read_exactly(block, what_ + ": no end-of-archive blocks"));
    if (all_zero(block)) {
      UPDRAFT_TRY(source_.read_exactly(block, what_ + ": one end-of-archive block of two"));
      if (!all_zero(block))
        return Error(ErrorCode::kApiBadRequest, what_ + ": a zero block in the middle");
      return std::optional<TarEntry>();
    }
    // The checksum counts the checksum field as 8 spaces.
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i)
      sum += (i >= 148 && i < 156) ? 0x20 : std::to_integer<std::uint64_t>(block[i]);
    const std::optional<std::uint64_t> stored = octal(block, 148, 8);
    if (!stored || *stored != sum)
      return Error(ErrorCode::kApiBadRequest, what_ + ": a tar header's checksum does not match");
    std::optional<std::uint64_t> size = octal(block, 124, 12);
    if (!size)
      return Error(ErrorCode::kApiBadRequest, what_ + ": a tar header's size is not octal");
    const char type = static_cast<char>(block[156]);
    std::string name = field(block, 0, 100);
    if (field(block, 257, 6) == "ustar") {
      const std::string prefix = field(block, 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    const std::uint64_t padding = (kBlock - *size % kBlock) % kBlock;

    if (type == 'x' || type == 'g') {
      // PAX records: "<len> <key>=<value>\n"; only a file's own ('x') count.
      if (*size > kMaxPaxBytes)
        return Error(ErrorCode::kApiBadRequest, what_ + ": a PAX header over 64 KiB");
      std::string records(static_cast<std::size_t>(*size), '\0');
      UPDRAFT_TRY(
          source_.read_exactly(std::as_writable_bytes(std::span(records)), what_ + ": PAX header"));
      std::array<std::byte, kBlock> pad{};
      UPDRAFT_TRY(source_.read_exactly(std::span(pad).first(static_cast<std::size_t>(padding)),
                                       what_ + ": PAX padding"));
      if (type == 'g') continue;
      std::size_t at = 0;
      while (at < records.size()) {
        const std::size_t space = records.find(' ', at);
        std::size_t length = 0;
        const auto [end, ec] = std::from_chars(
            records.data() + at, records.data() + std::min(space, records.size()), length);
        if (space == std::string::npos || ec != std::errc() || length < 5 ||
            at + length > records.size() || records[at + length - 1] != '\n') {
          return Error(ErrorCode::kApiBadRequest, what_ + ": a PAX record is malformed");
        }
        const std::string record = records.substr(space + 1, at + length - 1 - (space + 1));
        const std::size_t eq = record.find('=');
        if (eq == std::string::npos)
          return Error(ErrorCode::kApiBadRequest, what_ + ": a PAX record has no '='");
        const std::string key = record.substr(0, eq), value = record.substr(eq + 1);
        if (key == "path") pax_path = value;
        if (key == "size") {
          std::uint64_t v = 0;
          const auto [e, c] = std::from_chars(value.data(), value.data() + value.size(), v);
          if (c != std::errc() || e != value.data() + value.size())
            return Error(ErrorCode::kApiBadRequest, what_ + ": a PAX size is not a number");
          pax_size = v;
          has_pax_size = true;
        }
        at += length;
      }
      continue;
    }
    if (type == '5') {  // a directory: nothing to read
      if (*size != 0)
        return Error(ErrorCode::kApiBadRequest, what_ + ": a directory with contents");
      pax_path.reset();
      has_pax_size = false;
      continue;
    }
    if (type != '0' && type != '\0') {
      return Error(ErrorCode::kApiBadRequest, what_ + ": entry \"" + name + "\" is of tar type '" +
                                                  std::string(1, type) +
                                                  "'; an artifact holds regular files only");
    }
    if (pax_path) name = *pax_path;
    if (has_pax_size) size = pax_size;
    window_.emplace(source_, *size);
    padding_ = (kBlock - *size % kBlock) % kBlock;
    return std::optional<TarEntry>(TarEntry{name, *size});
  }
}

}  // namespace updraft::server::mender
