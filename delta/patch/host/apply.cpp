#include "delta/patch/host/apply.h"

#include <algorithm>
#include <string>

namespace updraft::delta {

Result<void> MemoryImageReader::read(std::uint32_t offset, MutableByteView out) {
  if (offset > image_.size() || out.size() > image_.size() - offset) return ErrorCode::kIoError;
  std::memcpy(out.data(), image_.data() + offset, out.size());
  return {};
}

Result<void> VectorImageWriter::write(std::uint32_t offset, ByteView data) {
  if (offset != bytes_.size()) return ErrorCode::kIoError;
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return {};
}

HostResult<std::vector<std::byte>> apply_patch(ByteView old_image, ByteView patch,
                                               const ApplyOptions& options) {
  std::size_t workspace_size = options.workspace_bytes;
  if (workspace_size == 0) {
    if (patch.size() < kHeaderSize) {
      return Error(ErrorCode::kPatchTruncated, "patch is shorter than its header");
    }
    UPDRAFT_TRY_ASSIGN(PatchHeader header, decode_header(std::span<const std::byte, kHeaderSize>(
                                               patch.data(), kHeaderSize)));
    workspace_size = header.workspace_bytes + 3;  // covers a misaligned vector start
  }
  std::vector<std::byte> workspace(workspace_size);
  MemoryImageReader reader(old_image);
  VectorImageWriter writer;
  Patcher patcher(reader, writer, workspace);
  std::size_t pos = 0;
  while (pos < patch.size()) {
    const std::size_t n = std::min(options.chunk_size, patch.size() - pos);
    UPDRAFT_TRY_ASSIGN(Patcher::FeedResult fed, patcher.feed(patch.subspan(pos, n)));
    pos += fed.consumed;
    if (fed.done && pos < patch.size()) {
      return Error(ErrorCode::kPatchTrailingData,
                   std::to_string(patch.size() - pos) + " bytes follow the end of the patch");
    }
  }
  Result<void> finished = patcher.finish();
  if (!finished.ok()) {
    return Error(finished.error(), std::string(describe(finished.error())) + " (applied " +
                                       std::to_string(patcher.new_offset()) + " bytes)");
  }
  return std::move(writer.bytes());
}

}  // namespace updraft::delta
