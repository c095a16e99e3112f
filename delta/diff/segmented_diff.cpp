// make_segmented_patch(): the layout block, then an ordinary patch of the linear bytes.
#include "delta/diff/diff.h"
#include "delta/format/layout.h"

namespace updraft::delta {

HostResult<std::vector<std::byte>> make_segmented_patch(const FirmwareImage& old_image,
                                                        const FirmwareImage& new_image,
                                                        const DiffOptions& options,
                                                        DiffStats* stats) {
  if (options.format_version < 2) {
    return Error(ErrorCode::kInvalidArgument,
                 "segmented patches (Intel HEX or ELF input) need patch format 2");
  }
  const std::vector<SegmentSpan> old_spans = old_image.spans();
  const std::vector<SegmentSpan> new_spans = new_image.spans();
  std::vector<std::byte> out(layout_block_size(old_spans.size(), new_spans.size()));
  if (!encode_layout(old_spans, new_spans, out).ok()) {
    return Error(ErrorCode::kInvalidArgument, "load segments do not fit a layout block (at most " +
                                                  std::to_string(kMaxLayoutSegments) +
                                                  " each, ascending, none empty, 2 GiB in all)");
  }
  std::vector<std::byte> old_storage, new_storage;
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> patch,
                     make_patch(old_image.linear_view(old_storage),
                                new_image.linear_view(new_storage), options, stats));
  out.insert(out.end(), patch.begin(), patch.end());
  return out;
}

}  // namespace updraft::delta
