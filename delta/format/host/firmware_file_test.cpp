// Firmware files (Intel HEX, ELF) into load segments, and the layout block that
// carries those segments in a segmented patch.
#include "delta/format/host/firmware_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "core/codec.h"
#include "delta/format/layout.h"

namespace updraft::delta {
namespace {

using Bytes = std::vector<std::byte>;

ByteView text_bytes(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

Bytes filled(std::size_t n, std::uint8_t first) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte(static_cast<std::uint8_t>(first + i));
  return out;
}

bool same_segments(const FirmwareImage& a, const FirmwareImage& b) {
  if (a.segments.size() != b.segments.size()) return false;
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].address != b.segments[i].address ||
        a.segments[i].bytes != b.segments[i].bytes) {
      return false;
    }
  }
  return true;
}

// Random segments: 1..5 of them, some crossing a 64 KiB boundary, with gaps.
FirmwareImage random_image(std::mt19937& rng) {
  FirmwareImage image;
  std::uint32_t address = 0x08000000u + static_cast<std::uint32_t>(rng() % 0x20000);
  const std::size_t count = 1 + rng() % 5;
  for (std::size_t i = 0; i < count; ++i) {
    Bytes bytes(1 + rng() % 3000);
    for (std::byte& b : bytes) b = std::byte(rng() & 0xFF);
    image.segments.push_back({address, bytes});
    address += static_cast<std::uint32_t>(bytes.size() + 1 + rng() % 0x18000);
  }
  return image;
}

// --- Intel HEX ---

TEST(IntelHexTest, ReadsRecordsAtTheirExtendedAddressesAndMergesNeighbours) {
  // Two records back to back at 0x08000000, then one at 0x08010000 after a type 04,
  // and one at 0x230 + 16 * 0x100 after a type 02 (segment) record; CRLF endings.
  const std::string hex =
      ":020000040800F2\r\n"
      ":0400000001020304F2\r\n"
      ":020004000506EF\r\n"
      ":020000040801F1\r\n"
      ":01000000AA55\r\n"
      ":020000020100FB\r\n"
      ":01023000BB12\r\n"
      ":0400000508000141AD\r\n"
      ":00000001FF\r\n";
  HostResult<FirmwareImage> image = parse_intel_hex(text_bytes(hex));
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(image->format, FirmwareFormat::kIntelHex);
  ASSERT_EQ(image->segments.size(), 3u);
  EXPECT_EQ(image->segments[0].address, 0x1230u);
  EXPECT_EQ(image->segments[0].bytes, Bytes{std::byte{0xBB}});
  EXPECT_EQ(image->segments[1].address, 0x08000000u);
  EXPECT_EQ(image->segments[1].bytes, filled(6, 1));
  EXPECT_EQ(image->segments[2].address, 0x08010000u);
  EXPECT_EQ(image->segments[2].bytes, Bytes{std::byte{0xAA}});
}

TEST(IntelHexTest, RejectsEachMalformedFileWithWhatAndWhere) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {":0400000001020304F3\n:00000001FF\n", "line 1: checksum"},
      {":0400000001020304F2\n", "no end-of-file record"},
      {":00000001FF\n:0100000001FE\n", "line 2: data after the end-of-file record"},
      {"0400000001020304F2\n:00000001FF\n", "line 1: a record must start with ':'"},
      {":0400000001020304\n:00000001FF\n", "line 1: byte count says 4"},
      {":04000000010203G4F2\n:00000001FF\n", "not a hex digit"},
      {":0400000001020304F\n:00000001FF\n", "odd number of hex digits"},
      {":00000006FA\n:00000001FF\n", "unknown record type 6"},
      {":020000040800F2\n:0400000001020304F2\n:02000200AAAAAB\n:00000001FF\n", "line 3: checksum"},
      {":0400000001020304F2\n:020002000506F1\n:00000001FF\n", "overlaps"},
      {":03000004080000F1\n:00000001FF\n", "extended address record carries 2 bytes"},
  };
  for (const Case& c : cases) {
    HostResult<FirmwareImage> image = parse_intel_hex(text_bytes(c.text));
    ASSERT_FALSE(image.ok()) << c.text;
    EXPECT_EQ(image.error().code, ErrorCode::kFirmwareFileMalformed) << c.text;
    EXPECT_NE(image.error().message.find(c.message), std::string::npos)
        << c.text << " -> " << image.error().message;
  }
}

// Property: what to_intel_hex() writes reads back to the same segments.
TEST(IntelHexTest, WrittenHexReadsBackToTheSameSegments) {
  std::mt19937 rng(5);
  for (int round = 0; round < 50; ++round) {
    const FirmwareImage image = random_image(rng);
    const std::string hex = to_intel_hex(image);
    HostResult<FirmwareImage> back = parse_firmware(text_bytes(hex));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->format, FirmwareFormat::kIntelHex);
    EXPECT_TRUE(same_segments(image, *back)) << "round " << round;
  }
}

// Property: no prefix of a valid file parses (it lacks its end record), and none crashes.
TEST(IntelHexTest, EveryCutShortFileIsRejected) {
  std::mt19937 rng(6);
  const std::string hex = to_intel_hex(random_image(rng));
  for (std::size_t cut = 1; cut + 4 < hex.size(); cut += 7) {
    HostResult<FirmwareImage> image = parse_intel_hex(text_bytes(hex.substr(0, cut)));
    ASSERT_FALSE(image.ok()) << "cut at " << cut;
    EXPECT_EQ(image.error().code, ErrorCode::kFirmwareFileMalformed);
  }
}

// --- ELF ---

struct ProgramHeader {
  std::uint32_t type = 1;  // PT_LOAD
  std::uint64_t vaddr = 0, paddr = 0;
  Bytes bytes;
  std::uint64_t memsz = 0;  // 0: bytes.size()
};

// A minimal little-endian ELF executable: header, program headers, then each
// segment's bytes (what a linker writes, without sections).
Bytes make_elf(bool is64, const std::vector<ProgramHeader>& headers) {
  const std::size_t ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
  Bytes out(ehsize + phentsize * headers.size());
  std::byte* h = out.data();
  std::memcpy(h,
              "\x7f"
              "ELF",
              4);
  h[4] = std::byte(is64 ? 2 : 1);
  h[5] = std::byte{1};
  h[6] = std::byte{1};
  store_le16(h + 16, 2);  // ET_EXEC
  store_le16(h + 18, is64 ? 62 : 40);
  if (is64) {
    store_le64(h + 32, ehsize);
    store_le16(h + 54, static_cast<std::uint16_t>(phentsize));
    store_le16(h + 56, static_cast<std::uint16_t>(headers.size()));
  } else {
    store_le32(h + 28, static_cast<std::uint32_t>(ehsize));
    store_le16(h + 42, static_cast<std::uint16_t>(phentsize));
    store_le16(h + 44, static_cast<std::uint16_t>(headers.size()));
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const ProgramHeader& ph = headers[i];
    const std::uint64_t offset = out.size();
    const std::uint64_t memsz = ph.memsz != 0 ? ph.memsz : ph.bytes.size();
    std::byte* p = out.data() + ehsize + i * phentsize;
    store_le32(p, ph.type);
    if (is64) {
      store_le64(p + 8, offset);
      store_le64(p + 16, ph.vaddr);
      store_le64(p + 24, ph.paddr);
      store_le64(p + 32, ph.bytes.size());
      store_le64(p + 40, memsz);
    } else {
      store_le32(p + 4, static_cast<std::uint32_t>(offset));
      store_le32(p + 8, static_cast<std::uint32_t>(ph.vaddr));
      store_le32(p + 12, static_cast<std::uint32_t>(ph.paddr));
      store_le32(p + 16, static_cast<std::uint32_t>(ph.bytes.size()));
      store_le32(p + 20, static_cast<std::uint32_t>(memsz));
    }
    out.insert(out.end(), ph.bytes.begin(), ph.bytes.end());
  }
  return out;
}

// A Cortex-M layout: vectors and .text in flash, .data in RAM but stored in flash
// right after .text (paddr), .bss with no file bytes, and a non-load note.
std::vector<ProgramHeader> cortex_m_headers() {
  return {
      {1, 0x08000000, 0x08000000, filled(0x40, 0x10), 0},
      {1, 0x08004000, 0x08004000, filled(0x300, 0x20), 0},
      {1, 0x20000000, 0x08004300, filled(0x24, 0x30), 0},
      {1, 0x20000100, 0x20000100, {}, 0x400},
      {4, 0, 0, filled(8, 0x40), 0},
  };
}

TEST(ElfTest, TakesEachLoadSegmentsFileBytesAtItsPhysicalAddress) {
  for (bool is64 : {false, true}) {
    HostResult<FirmwareImage> image = parse_firmware(make_elf(is64, cortex_m_headers()));
    ASSERT_TRUE(image.ok()) << image.error().to_string();
    EXPECT_EQ(image->format, FirmwareFormat::kElf);
    ASSERT_EQ(image->segments.size(), 2u) << "64-bit: " << is64;
    EXPECT_EQ(image->segments[0].address, 0x08000000u);
    EXPECT_EQ(image->segments[0].bytes, filled(0x40, 0x10));
    // .text and .data's load image are adjacent in flash: one segment.
    EXPECT_EQ(image->segments[1].address, 0x08004000u);
    Bytes text_and_data = filled(0x300, 0x20);
    const Bytes data = filled(0x24, 0x30);
    text_and_data.insert(text_and_data.end(), data.begin(), data.end());
    EXPECT_EQ(image->segments[1].bytes, text_and_data);
  }
}

TEST(ElfTest, RejectsEachMalformedFileWithWhatAndWhere) {
  Bytes big_endian = make_elf(false, cortex_m_headers());
  big_endian[5] = std::byte{2};
  Bytes no_headers = make_elf(false, {});
  Bytes outside = make_elf(false, cortex_m_headers());
  store_le32(outside.data() + 52 + 4, 0x7FFFFFF0u);  // first segment's offset
  Bytes overlapping = make_elf(
      false, {{1, 0x1000, 0x1000, filled(32, 0), 0}, {1, 0x1010, 0x1010, filled(32, 0), 0}});
  Bytes only_bss = make_elf(false, {{1, 0x20000000, 0x20000000, {}, 64}});
  Bytes too_high = make_elf(true, {{1, 0, 0x100000000ull, filled(4, 0), 0}});
  struct Case {
    const Bytes& bytes;
    const char* message;
  };
  const Case cases[] = {
      {big_endian, "big-endian"},
      {no_headers, "no program headers"},
      {outside, "program header 0: its bytes lie outside the file"},
      {overlapping, "overlaps"},
      {only_bss, "no loadable bytes"},
      {too_high, "beyond 32 bits"},
  };
  for (const Case& c : cases) {
    HostResult<FirmwareImage> image = parse_elf(c.bytes);
    ASSERT_FALSE(image.ok()) << c.message;
    EXPECT_EQ(image.error().code, ErrorCode::kFirmwareFileMalformed);
    EXPECT_NE(image.error().message.find(c.message), std::string::npos)
        << c.message << " -> " << image.error().message;
  }
}

// Property: every truncation of an ELF file is refused, never read past its end
// (up to the note's 8 bytes at the end, which nothing loads).
TEST(ElfTest, EveryCutShortFileIsRejected) {
  const Bytes elf = make_elf(false, cortex_m_headers());
  for (std::size_t cut = 4; cut < elf.size() - 8; ++cut) {
    HostResult<FirmwareImage> image = parse_elf(ByteView(elf).first(cut));
    ASSERT_FALSE(image.ok()) << "cut at " << cut;
  }
}

TEST(FirmwareFileTest, AnythingElseIsARawImageAtAddressZero) {
  const Bytes raw = filled(100, 7);
  HostResult<FirmwareImage> image = parse_firmware(raw);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->format, FirmwareFormat::kRaw);
  ASSERT_EQ(image->segments.size(), 1u);
  EXPECT_EQ(image->segments[0].address, 0u);
  EXPECT_EQ(image->linear(), raw);
}

TEST(FirmwareFileTest, FlatBinaryFillsTheGapsAndSplitIsTheInverseOfLinear) {
  FirmwareImage image{FirmwareFormat::kElf, {{0x100, filled(4, 1)}, {0x108, filled(2, 9)}}};
  const Bytes flat = to_flat_binary(image, std::byte{0xFF});
  const Bytes expected = {std::byte{1},    std::byte{2},    std::byte{3},    std::byte{4},
                          std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF},
                          std::byte{9},    std::byte{10}};
  EXPECT_EQ(flat, expected);
  HostResult<FirmwareImage> split = split_linear(image.linear(), image.spans());
  ASSERT_TRUE(split.ok());
  EXPECT_TRUE(same_segments(image, *split));
  EXPECT_FALSE(split_linear(image.linear(), {{0, 5}}).ok());
}

// --- the layout block ---

TEST(LayoutBlockTest, RoundTripsAndRefusesEveryCorruptByteAndCut) {
  std::mt19937 rng(8);
  const std::vector<SegmentSpan> old_spans = random_image(rng).spans();
  const std::vector<SegmentSpan> new_spans = random_image(rng).spans();
  Bytes block(layout_block_size(old_spans.size(), new_spans.size()));
  Result<std::size_t> written = encode_layout(old_spans, new_spans, block);
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(*written, block.size());
  ASSERT_TRUE(is_layout_block(block));

  std::vector<SegmentSpan> old_out(kMaxLayoutSegments), new_out(kMaxLayoutSegments);
  Result<LayoutCounts> counts = decode_layout(block, old_out, new_out);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->block_size(), block.size());
  old_out.resize(counts->old_count);
  new_out.resize(counts->new_count);
  EXPECT_EQ(old_out, old_spans);
  EXPECT_EQ(new_out, new_spans);

  std::vector<SegmentSpan> a(kMaxLayoutSegments), b(kMaxLayoutSegments);
  for (std::size_t i = 0; i < block.size(); ++i) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes bad = block;
      bad[i] ^= std::byte{flip};
      EXPECT_FALSE(decode_layout(bad, a, b).ok()) << "byte " << i;
    }
  }
  for (std::size_t cut = 0; cut < block.size(); ++cut) {
    Result<LayoutCounts> cut_counts = decode_layout(ByteView(block).first(cut), a, b);
    ASSERT_FALSE(cut_counts.ok());
    EXPECT_EQ(cut_counts.error(), ErrorCode::kPatchTruncated) << "cut at " << cut;
  }
}

TEST(LayoutBlockTest, RefusesTablesThatAreNotAscendingDisjointAndNonEmpty) {
  Bytes block(layout_block_size(2, 1));
  const std::vector<SegmentSpan> good = {{0x100, 16}};
  EXPECT_FALSE(encode_layout(std::vector<SegmentSpan>{{0x100, 16}, {0x108, 16}}, good, block).ok());
  EXPECT_FALSE(encode_layout(std::vector<SegmentSpan>{{0x200, 16}, {0x100, 16}}, good, block).ok());
  EXPECT_FALSE(encode_layout(std::vector<SegmentSpan>{{0x100, 0}, {0x200, 16}}, good, block).ok());
  EXPECT_FALSE(encode_layout(std::vector<SegmentSpan>{{0xFFFFFFF0u, 32}}, good, block).ok());
  EXPECT_TRUE(encode_layout(std::vector<SegmentSpan>{{0x100, 16}, {0x110, 16}}, good, block).ok());
}

}  // namespace
}  // namespace updraft::delta
