#include "delta/format/host/firmware_file.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/codec.h"
#include "core/host/hex.h"
#include "delta/format/patch_format.h"

namespace updraft::delta {
namespace {

Error malformed(const std::string& what) { return Error(ErrorCode::kFirmwareFileMalformed, what); }

std::string hex32(std::uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%08llx", static_cast<unsigned long long>(v));
  return text;
}

// Sorts pieces by address, merges the adjacent ones and refuses overlaps, so every
// format ends in the same canonical segment list.
HostResult<std::vector<Segment>> merge_pieces(std::vector<Segment> pieces) {
  std::erase_if(pieces, [](const Segment& s) { return s.bytes.empty(); });
  std::stable_sort(pieces.begin(), pieces.end(),
                   [](const Segment& a, const Segment& b) { return a.address < b.address; });
  std::vector<Segment> merged;
  for (Segment& piece : pieces) {
    if (std::uint64_t{piece.address} + piece.bytes.size() > (std::uint64_t{1} << 32)) {
      return malformed("data at " + hex32(piece.address) + " runs past the 32-bit address space");
    }
    if (!merged.empty()) {
      Segment& last = merged.back();
      const std::uint64_t last_end = std::uint64_t{last.address} + last.bytes.size();
      if (piece.address < last_end) {
        return malformed("data at " + hex32(piece.address) + " overlaps data at " +
                         hex32(last.address) + ".." + hex32(last_end - 1));
      }
      if (piece.address == last_end) {
        last.bytes.insert(last.bytes.end(), piece.bytes.begin(), piece.bytes.end());
        continue;
      }
    }
    merged.push_back(std::move(piece));
  }
  if (merged.size() > kMaxLayoutSegments) {
    return malformed(std::to_string(merged.size()) + " separate load segments (at most " +
                     std::to_string(kMaxLayoutSegments) + ")");
  }
  std::uint64_t total = 0;
  for (const Segment& s : merged) total += s.bytes.size();
  if (total > kMaxImageSize) return malformed("more than 2 GiB of load segments");
  return merged;
}

bool is_space(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }

}  // namespace

std::string_view format_name(FirmwareFormat format) {
  switch (format) {
    case FirmwareFormat::kIntelHex:
      return "Intel HEX";
    case FirmwareFormat::kElf:
      return "ELF";
    case FirmwareFormat::kRaw:
      break;
  }
  return "raw binary";
}

std::uint64_t FirmwareImage::size() const {
  std::uint64_t total = 0;
  for (const Segment& s : segments) total += s.bytes.size();
  return total;
}

std::vector<SegmentSpan> FirmwareImage::spans() const {
  std::vector<SegmentSpan> out;
  for (const Segment& s : segments) {
    out.push_back({s.address, static_cast<std::uint32_t>(s.bytes.size())});
  }
  return out;
}

std::vector<std::byte> FirmwareImage::linear() const {
  std::vector<std::byte> out;
  out.reserve(size());
  for (const Segment& s : segments) out.insert(out.end(), s.bytes.begin(), s.bytes.end());
  return out;
}

ByteView FirmwareImage::linear_view(std::vector<std::byte>& storage) const {
  if (segments.empty()) return {};
  if (segments.size() == 1) return segments.front().bytes;
  storage = linear();
  return storage;
}

HostResult<FirmwareImage> parse_intel_hex(ByteView text) {
  std::vector<Segment> pieces;
  std::uint32_t base = 0;  // from type 02 or 04 records
  std::size_t pos = 0;
  std::size_t line = 0;
  bool ended = false;
  while (pos < text.size()) {
    const char c = static_cast<char>(text[pos]);
    if (c == '\n') ++line;
    if (is_space(c)) {
      ++pos;
      continue;
    }
    const std::string where = "line " + std::to_string(line + 1) + ": ";
    if (ended) return malformed(where + "data after the end-of-file record");
    if (c != ':') return malformed(where + "a record must start with ':'");
    ++pos;
    // The record's hex pairs, up to the end of the line.
    const std::size_t start = pos;
    while (pos < text.size() && !is_space(static_cast<char>(text[pos]))) ++pos;
    const std::string_view digits(reinterpret_cast<const char*>(text.data()) + start, pos - start);
    HostResult<std::vector<std::byte>> decoded = from_hex(digits);
    if (!decoded.ok()) {
      return malformed(where +
                       (digits.size() % 2 != 0 ? "odd number of hex digits" : "not a hex digit"));
    }
    std::vector<std::uint8_t> record;
    for (std::byte b : *decoded) record.push_back(std::to_integer<std::uint8_t>(b));
    if (record.size() < 5) return malformed(where + "record shorter than its 5 fixed bytes");
    const std::size_t count = record[0];
    if (record.size() != count + 5) {
      return malformed(where + "byte count says " + std::to_string(count) +
                       " data bytes, the record has " + std::to_string(record.size() - 5));
    }
    std::uint8_t sum = 0;
    for (std::uint8_t b : record) sum = static_cast<std::uint8_t>(sum + b);
    if (sum != 0)
      return malformed(where + "checksum does not match (the record sums to " +
                       std::to_string(sum) + ", not 0)");
    const std::uint32_t offset = (std::uint32_t{record[1]} << 8) | record[2];
    const std::uint8_t type = record[3];
    const std::uint8_t* data = record.data() + 4;
    switch (type) {
      case 0x00: {
        Segment piece{base + offset, {}};
        for (std::size_t i = 0; i < count; ++i) piece.bytes.push_back(std::byte{data[i]});
        pieces.push_back(std::move(piece));
        break;
      }
      case 0x01:
        ended = true;
        break;
      case 0x02:
      case 0x04:
        if (count != 2) return malformed(where + "an extended address record carries 2 bytes");
        base = ((std::uint32_t{data[0]} << 8) | data[1]) << (type == 0x02 ? 4 : 16);
        break;
      case 0x03:
      case 0x05:
        if (count != 4) return malformed(where + "a start address record carries 4 bytes");
        break;
      default:
        return malformed(where + "unknown record type " + std::to_string(type));
    }
  }
  if (!ended) return malformed("no end-of-file record (type 01): the file is truncated");
  UPDRAFT_TRY_ASSIGN(std::vector<Segment> segments, merge_pieces(std::move(pieces)));
  return FirmwareImage{FirmwareFormat::kIntelHex, std::move(segments)};
}

HostResult<FirmwareImage> parse_elf(ByteView bytes) {
  constexpr std::size_t kIdentSize = 16;
  if (bytes.size() < kIdentSize || std::memcmp(bytes.data(),
                                               "\x7f"
                                               "ELF",
                                               4) != 0) {
    return malformed("not an ELF file (bad magic)");
  }
  const auto ident = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
  const bool is64 = ident(4) == 2;
  if (ident(4) != 1 && !is64)
    return malformed("ELF class " + std::to_string(ident(4)) + " is neither 32- nor 64-bit");
  if (ident(5) != 1) return malformed("big-endian ELF is not supported");
  const std::size_t header_size = is64 ? 64 : 52;
  if (bytes.size() < header_size) return malformed("ELF header is truncated");
  const std::byte* h = bytes.data();
  const std::uint64_t phoff = is64 ? load_le64(h + 32) : load_le32(h + 28);
  const std::size_t phentsize = load_le16(h + (is64 ? 54 : 42));
  const std::size_t phnum = load_le16(h + (is64 ? 56 : 44));
  const std::size_t min_entry = is64 ? 56 : 32;
  if (phnum == 0) return malformed("ELF file has no program headers (link it into an executable)");
  if (phnum == 0xFFFF) return malformed("ELF program header count in section 0 is not supported");
  if (phentsize < min_entry) return malformed("ELF program header entries are too small");
  if (phoff > bytes.size() || phnum * phentsize > bytes.size() - phoff) {
    return malformed("ELF program header table lies outside the file");
  }
  std::vector<Segment> pieces;
  for (std::size_t i = 0; i < phnum; ++i) {
    const std::byte* p = h + phoff + i * phentsize;
    if (load_le32(p) != 1) continue;  // PT_LOAD only
    const std::uint64_t offset = is64 ? load_le64(p + 8) : load_le32(p + 4);
    const std::uint64_t paddr = is64 ? load_le64(p + 24) : load_le32(p + 12);
    const std::uint64_t filesz = is64 ? load_le64(p + 32) : load_le32(p + 16);
    const std::string which = "program header " + std::to_string(i) + ": ";
    if (filesz == 0) continue;  // .bss and the like: nothing to store
    if (offset > bytes.size() || filesz > bytes.size() - offset) {
      return malformed(which + "its bytes lie outside the file");
    }
    if (paddr + filesz > (std::uint64_t{1} << 32) || paddr + filesz < paddr) {
      return malformed(which + "load address " + hex32(paddr) + " is beyond 32 bits");
    }
    Segment piece{static_cast<std::uint32_t>(paddr), {}};
    piece.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                       bytes.begin() + static_cast<std::ptrdiff_t>(offset + filesz));
    pieces.push_back(std::move(piece));
  }
  if (pieces.empty()) return malformed("ELF file has no loadable bytes");
  UPDRAFT_TRY_ASSIGN(std::vector<Segment> segments, merge_pieces(std::move(pieces)));
  return FirmwareImage{FirmwareFormat::kElf, std::move(segments)};
}

FirmwareFormat detect_format(ByteView bytes) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(),
                                       "\x7f"
                                       "ELF",
                                       4) == 0) {
    return FirmwareFormat::kElf;
  }
  if (!bytes.empty() && bytes[0] == std::byte{':'}) return FirmwareFormat::kIntelHex;
  return FirmwareFormat::kRaw;
}

HostResult<FirmwareImage> parse_firmware(ByteView bytes) {
  switch (detect_format(bytes)) {
    case FirmwareFormat::kElf:
      return parse_elf(bytes);
    case FirmwareFormat::kIntelHex:
      return parse_intel_hex(bytes);
    case FirmwareFormat::kRaw:
      break;
  }
  if (bytes.size() > kMaxImageSize) return malformed("raw image is larger than 2 GiB");
  FirmwareImage image;
  if (!bytes.empty())
    image.segments.push_back({0, std::vector<std::byte>(bytes.begin(), bytes.end())});
  return image;
}

HostResult<FirmwareImage> split_linear(ByteView linear, const std::vector<SegmentSpan>& spans) {
  if (total_size(spans) != linear.size()) {
    return Error(ErrorCode::kInvalidArgument,
                 "segment sizes add up to " + std::to_string(total_size(spans)) +
                     " bytes, the image has " + std::to_string(linear.size()));
  }
  FirmwareImage image{FirmwareFormat::kRaw, {}};
  std::size_t pos = 0;
  for (const SegmentSpan& s : spans) {
    image.segments.push_back(
        {s.address,
         std::vector<std::byte>(linear.begin() + static_cast<std::ptrdiff_t>(pos),
                                linear.begin() + static_cast<std::ptrdiff_t>(pos + s.size))});
    pos += s.size;
  }
  return image;
}

std::string to_intel_hex(const FirmwareImage& image) {
  std::string out;
  char line[64];
  const auto record = [&](std::uint8_t type, std::uint16_t offset, const std::uint8_t* data,
                          std::size_t n) {
    std::uint8_t sum = static_cast<std::uint8_t>(n + (offset >> 8) + (offset & 0xFF) + type);
    int len =
        std::snprintf(line, sizeof line, ":%02X%04X%02X", static_cast<unsigned>(n), offset, type);
    out.append(line, static_cast<std::size_t>(len));
    for (std::size_t i = 0; i < n; ++i) {
      sum = static_cast<std::uint8_t>(sum + data[i]);
      len = std::snprintf(line, sizeof line, "%02X", data[i]);
      out.append(line, static_cast<std::size_t>(len));
    }
    len = std::snprintf(line, sizeof line, "%02X\n", static_cast<std::uint8_t>(0x100 - sum) & 0xFF);
    out.append(line, static_cast<std::size_t>(len));
  };
  std::uint32_t upper = 0;
  bool upper_written = false;
  for (const Segment& s : image.segments) {
    std::uint64_t address = s.address;
    std::size_t pos = 0;
    while (pos < s.bytes.size()) {
      if (!upper_written || (address >> 16) != upper) {
        upper = static_cast<std::uint32_t>(address >> 16);
        const std::uint8_t ext[2] = {static_cast<std::uint8_t>(upper >> 8),
                                     static_cast<std::uint8_t>(upper)};
        record(0x04, 0, ext, 2);
        upper_written = true;
      }
      // 16 bytes a record, never across a 64 KiB boundary.
      const std::size_t room = 0x10000 - (address & 0xFFFF);
      const std::size_t n = std::min({std::size_t{16}, s.bytes.size() - pos, room});
      record(0x00, static_cast<std::uint16_t>(address & 0xFFFF),
             reinterpret_cast<const std::uint8_t*>(s.bytes.data() + pos), n);
      pos += n;
      address += n;
    }
  }
  record(0x01, 0, nullptr, 0);
  return out;
}

std::vector<std::byte> to_flat_binary(const FirmwareImage& image, std::byte fill) {
  if (image.segments.empty()) return {};
  const std::uint32_t start = image.segments.front().address;
  const Segment& last = image.segments.back();
  std::vector<std::byte> out(last.address - start + last.bytes.size(), fill);
  for (const Segment& s : image.segments) {
    std::copy(s.bytes.begin(), s.bytes.end(), out.begin() + (s.address - start));
  }
  return out;
}

}  // namespace updraft::delta
