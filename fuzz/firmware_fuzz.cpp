// Fuzz target for the firmware file readers (Intel HEX, ELF, raw) and the layout
// block of a segmented patch: the bytes `updraft diff` and `updraft patch` take
// from a user, and the first bytes of a segmented patch.
// Properties, checked on every input (abort() otherwise):
//   - parse_firmware() refuses with kFirmwareFileMalformed and a message, or gives
//     segments that are non-empty, ascending, disjoint, at most kMaxLayoutSegments
//     and 2 GiB in all, which to_intel_hex() writes and parse_intel_hex() reads back
//     to the same segments, and whose layout block encodes;
//   - decode_layout() refuses with a 1xx code, or encode_layout() of what it
//     decoded gives back exactly the block's bytes.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into firmware_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "delta/format/host/firmware_file.h"
#include "delta/format/layout.h"

namespace updraft::delta {
namespace {

void check(bool holds, const char* property) {
  if (!holds) {
    std::fprintf(stderr, "firmware_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

void check_firmware(ByteView input) {
  HostResult<FirmwareImage> image = parse_firmware(input);
  if (!image.ok()) {
    check(image.error().code == ErrorCode::kFirmwareFileMalformed,
          "refusal is not kFirmwareFileMalformed");
    check(!image.error().message.empty(), "refusal without a message");
    return;
  }
  const std::vector<SegmentSpan> spans = image->spans();
  check(check_segments(spans).ok(), "segments are not ascending, disjoint and non-empty");
  std::vector<std::byte> block(layout_block_size(spans.size(), spans.size()));
  check(encode_layout(spans, spans, block).ok(), "layout block of parsed segments does not encode");
  if (image->format == FirmwareFormat::kRaw) {
    check(image->linear().size() == input.size(), "raw image is not the input");
    return;
  }
  const std::string hex = to_intel_hex(*image);
  HostResult<FirmwareImage> back =
      parse_intel_hex(ByteView(reinterpret_cast<const std::byte*>(hex.data()), hex.size()));
  check(back.ok(), "written Intel HEX does not parse");
  check(back->spans() == spans && back->linear() == image->linear(),
        "written Intel HEX reads back to other segments");
}

void check_layout(ByteView input) {
  std::vector<SegmentSpan> old_spans(kMaxLayoutSegments), new_spans(kMaxLayoutSegments);
  Result<LayoutCounts> counts = decode_layout(input, old_spans, new_spans);
  if (!counts.ok()) {
    const unsigned number = error_number(counts.error());
    check(number >= 100 && number < 200, "layout refusal is not a 1xx code");
    return;
  }
  old_spans.resize(counts->old_count);
  new_spans.resize(counts->new_count);
  std::vector<std::byte> block(counts->block_size());
  check(encode_layout(old_spans, new_spans, block).ok(), "decoded layout does not encode");
  check(block.size() <= input.size() && std::memcmp(block.data(), input.data(), block.size()) == 0,
        "decoded layout encodes to other bytes");
}

}  // namespace
}  // namespace updraft::delta

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const updraft::ByteView input(reinterpret_cast<const std::byte*>(data), size);
  updraft::delta::check_firmware(input);
  updraft::delta::check_layout(input);
  return 0;
}
