// Firmware files as toolchains write them: a raw binary, Intel HEX or ELF. Each
// becomes the load segments it puts into flash, at their addresses, so a
// non-contiguous layout (vector table, .text, .rodata in different regions) can
// be diffed as one segmented patch (delta/format/layout.h). Host only.
//
// Intel HEX: record types 00 (data), 01 (end of file, required), 02 and 04
// (extended segment and linear address), 03 and 05 (start address, ignored).
// ELF: 32- or 64-bit little-endian; each PT_LOAD program header's file bytes at
// its physical address (p_paddr, where the bytes are stored, as objcopy takes
// them), so initialised data lands in flash beside the code that copies it out.
// Adjacent pieces are merged; overlapping ones are an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "delta/format/layout.h"

namespace updraft::delta {

enum class FirmwareFormat : std::uint8_t { kRaw, kIntelHex, kElf };
std::string_view format_name(FirmwareFormat format);

struct Segment {
  std::uint32_t address = 0;
  std::vector<std::byte> bytes;
};

struct FirmwareImage {
  FirmwareFormat format = FirmwareFormat::kRaw;
  std::vector<Segment> segments;  // ascending by address, non-overlapping, none empty

  std::uint64_t size() const;              // bytes in all segments
  std::vector<SegmentSpan> spans() const;  // the layout table
  std::vector<std::byte> linear() const;   // the segments' bytes end to end
  // The same as a view: of the one segment in place, or of `storage` filled
  // with linear() when there are more.
  ByteView linear_view(std::vector<std::byte>& storage) const;
};

// The format `bytes` hold, by the rule parse_firmware() follows.
FirmwareFormat detect_format(ByteView bytes);

// Detects the format from the content: ELF magic, else a file of Intel HEX
// records (starts with ':'), else raw (one segment at address 0, empty if the
// file is). Errors are kFirmwareFileMalformed with what and where (line or offset).
HostResult<FirmwareImage> parse_firmware(ByteView bytes);
HostResult<FirmwareImage> parse_intel_hex(ByteView text);
HostResult<FirmwareImage> parse_elf(ByteView bytes);

// Splits a linear image along `spans` (sizes must add up): the inverse of linear().
HostResult<FirmwareImage> split_linear(ByteView linear, const std::vector<SegmentSpan>& spans);

// Intel HEX text (type 04 records for the upper address bits, 16 data bytes a
// line), which parse_intel_hex() reads back to the same segments.
std::string to_intel_hex(const FirmwareImage& image);
// One binary from the lowest address to the end of the highest segment, gaps
// filled with `fill` (what objcopy -O binary --gap-fill writes).
std::vector<std::byte> to_flat_binary(const FirmwareImage& image, std::byte fill);

}  // namespace updraft::delta
